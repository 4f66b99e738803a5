import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from './program.js';

const run = promisify(execFile);
// The sources under test, not a possibly stale dist/ (bin/tessera.js prefers dist/ when built).
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const tsx = import.meta.resolve('tsx');

/** Runs `tessera ...args` as a child process; never throws, returns code, stdout and stderr. */
async function tessera(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', tsx, '--conditions=development', main, ...args], {
      cwd,
      env: { ...process.env, CI: '1' },
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...allCommands(c, [...prefix, c.name()])]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tessera', () => {
  it('prints help for the program and for train as a child process', async () => {
    const top = await tessera(['--help'], dir);
    expect(top.code).toBe(0);
    for (const name of ['data', 'train', 'eval', 'finetune', 'models']) expect(top.stdout).toContain(name);
    const train = await tessera(['train', '--help'], dir);
    expect(train.code).toBe(0);
    expect(train.stdout).toContain('--resume');
    expect(train.stdout).toContain('--train.lr');
  });

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

  it('explains a bad run config with the path of the bad field', async () => {
    const config = path.join(dir, 'bad.yaml');
    await writeFile(
      config,
      'model: clip-tiny\ndata: { train: x.jsonl, languagez: [en] }\ntrain: { lr: 1e-3, steps: 1, batchSize: 2, outputDir: out }\n',
    );
    const out = await tessera(['train', '--config', config], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('error [E_CONFIG]');
    expect(out.stderr).toContain('languagez');
    expect(out.stderr).toContain('unknown key data.languagez — did you mean languages?');
    const typo = await tessera(['train', '--config', config, '--budgetMinutes', '10'], dir);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown argument --budgetMinutes 10');
    const taskConfig = path.join(dir, 'task.yaml');
    await writeFile(taskConfig, 'task: captoning\nmodel: {}\n');
    const task = await tessera(['train', '--config', taskConfig], dir);
    expect(task.code).toBe(1);
    expect(task.stderr).toContain('unknown task "captoning" — did you mean captioning?');
    const missing = await tessera(['eval', 'retrieval', '--checkpoint', path.join(dir, 'nope'), '--data', 'x.jsonl'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('config.json');
  });
});
