import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataCommand } from './data.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-cmd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function command() {
  const cmd = createDataCommand();
  cmd.exitOverride();
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return cmd;
}

describe('createDataCommand', () => {
  it('builds the emoji set and shards its training manifest', async () => {
    const out = path.join(dir, 'emoji');
    await command().parseAsync(['emoji', '--out', out, '--limit', '12', '--zero-shot-fraction', '0.25'], { from: 'user' });
    expect((await readdir(out)).sort()).toEqual(
      ['ATTRIBUTION.md', 'LICENSES', 'dataset.json', 'images', 'manifest.jsonl', 'test.jsonl', 'train.jsonl', 'zeroshot.jsonl'].sort(),
    );
    const shards = path.join(dir, 'shards');
    await command().parseAsync(['shard', '--manifest', path.join(out, 'train.jsonl'), '--out', shards, '--per-shard', '4'], {
      from: 'user',
    });
    // 12 concepts, 3 held out: 9 training samples in shards of 4.
    expect((await readdir(shards)).sort()).toEqual(['shard-000000.tar', 'shard-000001.tar', 'shard-000002.tar']);
  });

  it('documents every option in --help and rejects a bad --per-shard', async () => {
    const cmd = command();
    const shard = cmd.commands.find((c) => c.name() === 'shard');
    const help = shard?.helpInformation() ?? '';
    for (const flag of ['--manifest', '--out', '--per-shard', '--image-key', '--caption-key']) expect(help).toContain(flag);
    expect(cmd.commands.find((c) => c.name() === 'emoji')?.helpInformation()).toContain('--zero-shot-fraction');
    expect(cmd.commands.find((c) => c.name() === 'moving-emoji')?.helpInformation()).toContain('--clips');
    await expect(
      cmd.parseAsync(['shard', '--manifest', 'm.jsonl', '--out', 'x', '--per-shard', '0'], { from: 'user' }),
    ).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
  });
});
