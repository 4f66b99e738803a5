import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@tessera/core';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { buildMovingEmojiDataset } from '@tessera/dataset-moving-emoji';
import { loadCaptioner, loadModel } from '@tessera/models';
import type { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
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

describe('tessera train --init', () => {
  it('fine-tunes a Hugging Face folder with the committed fine-tuning config, then exports it', async () => {
    await initBackend({ backend: 'wasm' });
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-cli-init-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const { manifest } = (await buildEmojiDataset({ outDir: path.join(dir, 'emoji'), limit: 8 })).splits.train;
      const folder = fileURLToPath(new URL('../../../packages/models/test/fixtures/pretrained/clip', import.meta.url));
      const config = fileURLToPath(new URL('../../../datasets/emoji/clip-finetune.yaml', import.meta.url));
      const run = path.join(dir, 'run');
      const argv = ['train', '--config', config, '--init', folder, '--no-progress'];
      argv.push('--data.train', manifest, '--data.eval', manifest, '--data.maxTextLength', '16');
      argv.push('--train.steps', '2', '--train.batchSize', '4', '--train.outputDir', run);
      await createProgram().exitOverride().parseAsync(argv, { from: 'user' });
      const trained = await loadModel(path.join(run, 'model'));
      expect(trained.config).toEqual((await loadModel(folder)).config);
      trained.model.dispose();
      await createProgram()
        .exitOverride()
        .parseAsync(['export', '--checkpoint', path.join(run, 'model'), '--out', path.join(dir, 'hf')], { from: 'user' });
      const exported = await loadModel(path.join(dir, 'hf'));
      expect(exported.config).toEqual(trained.config);
      exported.model.dispose();
      await expect(
        createProgram()
          .exitOverride()
          .parseAsync(['export', '--checkpoint', path.join(run, 'model'), '--out', path.join(dir, 'hf')], { from: 'user' }),
      ).rejects.toMatchObject({ code: 'E_EXPORT' });
    } finally {
      log.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tessera train --shard i/n', () => {
  it('sets data.rank and data.worldSize, which the run config checks before any data work', async () => {
    const config = fileURLToPath(new URL('../../../datasets/emoji/clip-tiny.yaml', import.meta.url));
    const train = (...extra: string[]) =>
      createProgram()
        .exitOverride()
        .parseAsync(['train', '--config', config, '--no-progress', ...extra], { from: 'user' });
    await expect(train('--shard', '2/2')).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('--shard must be i/n'),
    });
    // clip-tiny trains on a manifest: a rank of a world splits shards only.
    await expect(train('--shard', '1/2')).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('data.rank: rank/worldSize split WebDataset shards between processes'),
    });
  });
});

describe('tessera train --init <GIT folder>', () => {
  it('fine-tunes the Hugging Face GIT captioner with a captioning config, its model section giving way, into a GIT folder', async () => {
    await initBackend({ backend: 'wasm' });
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-cli-git-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const built = await buildMovingEmojiDataset({
        outDir: path.join(dir, 'set'),
        clips: 2,
        concepts: 2,
        size: 32,
        emojiSize: 20,
        frames: 4,
        twoObjectFraction: 0,
        testFraction: 0,
        seed: 1,
      });
      const folder = fileURLToPath(new URL('../../../packages/models/test/fixtures/pretrained/git-video', import.meta.url));
      // The tiny Tessera captioner's config: its model section is replaced by the folder's architecture.
      const config = fileURLToPath(new URL('../../../datasets/moving-emoji/captioner-tiny.yaml', import.meta.url));
      const run = path.join(dir, 'run');
      const argv = ['train', '--config', config, '--init', folder, '--no-progress', '--data.manifest', built.manifests.all];
      argv.push('--train.steps', '2', '--train.batchSize', '2', '--train.warmupSteps', '0', '--train.outputDir', run);
      await createProgram().exitOverride().parseAsync(argv, { from: 'user' });
      const written = JSON.parse(await readFile(path.join(run, 'model', 'config.json'), 'utf8'));
      expect(written).toMatchObject({ model_type: 'git', num_image_with_embedding: 4 });
      const captioner = await loadCaptioner(path.join(run, 'model'));
      expect([captioner.kind, captioner.model.numFrames]).toEqual(['git', 4]);
      captioner.model.dispose();
    } finally {
      log.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
