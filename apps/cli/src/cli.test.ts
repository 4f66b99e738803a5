import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';

// The program as a process (help, config errors, whole runs) is tested in tests/e2e/.
const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...allCommands(c, [...prefix, c.name()])]);
}

describe('tessera', () => {
  it('documents every command, and the README lists every command the program has', async () => {
    const program = createProgram();
    const names = program.commands.map((c) => c.name());
    // The README's row for @tessera/cli: "the `tessera` command: data, tokenizer, models, ...".
    const row = /^\| \[`@tessera\/cli`\]\(apps\/cli\) \| the `tessera` command: (.+) \|$/m.exec(await readFile(readme, 'utf8'));
    const listed = row?.[1] ?? '';
    expect(listed, 'README.md has a row for @tessera/cli listing its commands').not.toBe('');
    expect([...names].sort()).toEqual(
      listed
        .split(',')
        .map((n) => n.trim())
        .sort(),
    );
    const help = program.helpInformation();
    const commands = allCommands(program);
    for (const name of names) expect(help, `tessera --help lists ${name}`).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    for (const { path: p, cmd } of commands) {
      expect(cmd.description(), `${p.join(' ')} has a description`).not.toBe('');
      for (const option of cmd.options) expect(option.description, `${p.join(' ')} ${option.flags}`).not.toBe('');
      expect(cmd.helpInformation()).toContain(`Usage: tessera ${p.join(' ')}`);
    }
  });
});
