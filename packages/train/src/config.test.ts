import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { applyOverrides, loadConfigFile, parseOverrides, parseOverrideValue } from './overrides.js';

const minimal = { lr: 1e-3, steps: 10, batchSize: 8, outputDir: 'runs/x' };

describe('train config', () => {
  it('fills defaults for what a run need not choose', () => {
    const c = parseTrainConfig(minimal);
    expect(c).toMatchObject({
      schedule: 'cosine',
      warmupSteps: 0,
      accumulation: 1,
      clipGradNorm: null,
      keepLast: 3,
      seed: 0,
      betas: [0.9, 0.999],
    });
  });

  it('fails on a wrong or unknown field with its path', () => {
    expect(() => parseTrainConfig({ ...minimal, lr: 'fast' })).toThrow(/lr: /);
    expect(() => parseTrainConfig({ ...minimal, learningRate: 1 })).toThrow(/learningRate/);
    expect(() => parseTrainConfig({ ...minimal, monitor: { metric: 'eval/loss', mode: 'lowest' } })).toThrow(/monitor\.mode/);
    expect(() => parseTrainConfig({ ...minimal, monitor: { metric: 'eval/loss', patiense: 2 } })).toThrow(/patiense/);
    expect(() => parseTrainConfig({ lr: 1, batchSize: 2, outputDir: 'o' })).toThrow(/steps: set train\.steps or train\.epochs/);
    expect(() => parseTrainConfig({ ...minimal, lr: 'fast' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});

describe('CLI overrides', () => {
  it('parses values as JSON, numbers or strings', () => {
    expect(parseOverrideValue('3e-4')).toBe(3e-4);
    expect(parseOverrideValue('true')).toBe(true);
    expect(parseOverrideValue('null')).toBe(null);
    expect(parseOverrideValue('[0.9,0.98]')).toEqual([0.9, 0.98]);
    expect(parseOverrideValue('cosine')).toBe('cosine');
    expect(parseOverrideValue('.5')).toBe(0.5);
    expect(parseOverrideValue('runs/a b')).toBe('runs/a b');
  });

  it('reads --a.b value and --a.b=value, leaving other arguments', () => {
    const { overrides, rest } = parseOverrides([
      '--config',
      'c.yaml',
      '--train.lr',
      '3e-4',
      '--train.monitor.metric=eval/loss',
      '--resume',
      'x',
    ]);
    expect(overrides).toEqual([
      { path: ['train', 'lr'], value: 3e-4 },
      { path: ['train', 'monitor', 'metric'], value: 'eval/loss' },
    ]);
    expect(rest).toEqual(['--config', 'c.yaml', '--resume', 'x']);
    expect(() => parseOverrides(['--train.lr'])).toThrow(/needs a value/);
    expect(parseOverrides(['--train.lr', '-1']).overrides[0]?.value).toBe(-1);
  });

  it('applies overrides before validation, so a misspelt override fails with its path', () => {
    const base = { train: { ...minimal } };
    const { overrides } = parseOverrides(['--train.lr', '3e-4', '--train.monitor.metric', 'eval/loss']);
    const merged = applyOverrides(base, overrides);
    expect(parseTrainConfig(merged.train)).toMatchObject({ lr: 3e-4, monitor: { metric: 'eval/loss', mode: 'min' } });
    expect(base.train.lr).toBe(1e-3); // not mutated
    const typo = applyOverrides(base, parseOverrides(['--train.lrr', '1']).overrides);
    expect(() => parseTrainConfig(typo.train)).toThrow(/lrr/);
    expect(() => applyOverrides(base, parseOverrides(['--train.lr.value', '1']).overrides)).toThrow(/train\.lr is not an object/);
  });

  it('loads YAML and JSON files and applies argv overrides', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-config-'));
    const yamlFile = path.join(dir, 'c.yaml');
    await writeFile(
      yamlFile,
      'model: tiny\ntrain:\n  lr: 5.0e-4\n  steps: 100\n  batchSize: 32\n  outputDir: runs/a\n  betas: [0.9, 0.98]\n',
    );
    const fromYaml = await loadConfigFile(yamlFile, ['--train.steps', '20']);
    expect(fromYaml).toEqual({ model: 'tiny', train: { lr: 5e-4, steps: 20, batchSize: 32, outputDir: 'runs/a', betas: [0.9, 0.98] } });
    expect(parseTrainConfig(fromYaml.train).betas).toEqual([0.9, 0.98]);
    const jsonFile = path.join(dir, 'c.json');
    await writeFile(jsonFile, JSON.stringify({ train: minimal }));
    expect((await loadConfigFile(jsonFile)).train).toEqual(minimal);
    await expect(loadConfigFile(jsonFile, ['--budgetMinutes', '3'])).rejects.toThrow(/unknown argument --budgetMinutes 3/);
    await writeFile(jsonFile, '{"train": ');
    await expect(loadConfigFile(jsonFile)).rejects.toThrow(/not valid JSON/);
    await writeFile(yamlFile, '- a\n- b\n');
    await expect(loadConfigFile(yamlFile)).rejects.toThrow(/object at the top level/);
    await expect(loadConfigFile(path.join(dir, 'missing.yaml'))).rejects.toThrow(expect.objectContaining({ code: 'E_IO' }));
  });
});
