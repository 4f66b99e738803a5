import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nearestName, parseConfig } from './config.js';
import { isTesseraError } from './errors.js';

describe('parseConfig', () => {
  const Schema = z.object({ model: z.object({ layers: z.number().int() }).strict(), lr: z.number().positive() }).strict();

  it('returns typed data for a valid config', () => {
    expect(parseConfig(Schema, { model: { layers: 2 }, lr: 0.1 })).toEqual({ model: { layers: 2 }, lr: 0.1 });
  });

  it('names the path of every bad or unknown field', () => {
    try {
      parseConfig(Schema, { model: { layers: 'two', heads: 4 }, lr: -1 }, 'train config');
      expect.unreachable();
    } catch (error) {
      expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid train config/);
      expect(message).toMatch(/model\.layers: .*number/);
      expect(message).toContain('unknown key model.heads (valid keys: layers)');
      expect(message).toMatch(/lr: /);
    }
  });

  it('names the nearest valid key of a mistyped one, at any depth and through unions and defaults', () => {
    const Train = z
      .object({ lr: z.number(), batchSize: z.number().int().positive(), warmupSteps: z.number().default(0) })
      .strict()
      .refine((t) => t.lr > 0);
    const Run = z
      .object({
        train: Train,
        augment: z.union([z.object({ scale: z.tuple([z.number(), z.number()]) }).strict(), z.literal(false)]).default(false),
        layers: z.array(z.object({ dim: z.number() }).strict()).optional(),
      })
      .strict();
    const message = (value: unknown) => {
      try {
        parseConfig(Run, value, 'run config');
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a config error');
    };
    expect(message({ train: { lr: 1, batchSise: 64 } })).toContain('unknown key train.batchSise — did you mean batchSize?');
    expect(message({ train: { lr: 1, batchSize: 2, warmupsteps: 3 } })).toContain(
      'unknown key train.warmupsteps — did you mean warmupSteps?',
    );
    expect(message({ train: { lr: 1, batchSize: 2 }, augment: { scale: [0, 1], scael: 1 } })).toContain(
      'unknown key augment.scael — did you mean scale?',
    );
    // Two problems inside one union branch: zod reports the union, parseConfig the branch's issues.
    const both = message({ train: { lr: 1, batchSize: 2 }, augment: { scael: 1 } });
    expect(both).toContain('unknown key augment.scael — did you mean scale?');
    expect(both).toContain('augment.scale: ');
    expect(both).not.toContain('Invalid input\n');
    expect(message({ train: { lr: 1, batchSize: 2 }, layers: [{ dim: 1 }, { dims: 2 }] })).toContain(
      'unknown key layers.1.dims — did you mean dim?',
    );
    expect(message({ trian: { lr: 1, batchSize: 2 } })).toContain('unknown key trian — did you mean train?');
    expect(message({ train: { lr: 1, batchSize: 2 }, colour: 1 })).toContain('unknown key colour (valid keys: train, augment, layers)');
  });
});

describe('nearestName', () => {
  it('picks the closest name within a few edits, else none', () => {
    expect(nearestName('languagez', ['train', 'languages', 'maxTextLength'])).toBe('languages');
    expect(nearestName('batchsize', ['batchSize', 'lr'])).toBe('batchSize');
    expect(nearestName('zzz', ['batchSize', 'lr'])).toBeUndefined();
  });
});
