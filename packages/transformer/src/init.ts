import { SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';

/**
 * Weight initialisers, drawn from a SeededRandom so every run is reproducible.
 * Names follow torch.nn.init; `kaiming_uniform` is what torch.nn.Linear does by default.
 */
export const INIT_SCHEMES = ['kaiming_uniform', 'xavier_uniform', 'normal', 'trunc_normal', 'zeros'] as const;
/**
 * A weight initialiser, as layer configs take it in `init`: 'kaiming_uniform' (uniform in
 * ±1/sqrt(fanIn)), 'xavier_uniform', 'normal' and 'trunc_normal' (cut at ±2 std; both use the
 * config's `std`), or 'zeros'.
 */
export type InitScheme = (typeof INIT_SCHEMES)[number];

export const InitSchemeSchema = z.enum(INIT_SCHEMES);
/** Every layer config takes its generator as `rng`. */
export const RngSchema = z.custom<SeededRandom>((v) => v instanceof SeededRandom, { message: 'expected a SeededRandom' });

/** A weight of `shape` ([fanOut, fanIn] for matrices) drawn from `scheme`. */
export function initWeight(shape: number[], scheme: InitScheme, rng: SeededRandom, std = 0.02): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const fanIn = shape.length >= 2 ? (shape[shape.length - 1] as number) : size;
  const fanOut = shape.length >= 2 ? (shape[0] as number) : size;
  let values: Float32Array;
  switch (scheme) {
    case 'kaiming_uniform': {
      // torch: kaiming_uniform_(a=sqrt(5)) -> bound = 1/sqrt(fan_in).
      const bound = 1 / Math.sqrt(fanIn);
      values = rng.array(size, (r) => r.uniform(-bound, bound));
      break;
    }
    case 'xavier_uniform': {
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      values = rng.array(size, (r) => r.uniform(-bound, bound));
      break;
    }
    case 'normal':
      values = rng.array(size, (r) => r.normal(0, std));
      break;
    case 'trunc_normal':
      values = rng.array(size, (r) => r.truncatedNormal(0, std));
      break;
    case 'zeros':
      values = new Float32Array(size);
      break;
    default:
      throw new TesseraError('E_CONFIG', `unknown init scheme "${scheme as string}"; use one of ${INIT_SCHEMES.join(', ')}`);
  }
  return tf.tensor(values, shape, 'float32');
}
