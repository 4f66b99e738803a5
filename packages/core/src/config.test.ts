import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from './config.js';
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
      expect(message).toMatch(/model: .*heads/);
      expect(message).toMatch(/lr: /);
    }
  });
});
