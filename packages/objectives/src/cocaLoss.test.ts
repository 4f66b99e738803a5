import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../test/reference.js';
import { cocaLoss } from './cocaLoss.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('cocaLoss', () => {
  it('cocaLoss weighs contrastive 1 and captioning 2 by default', () => {
    const out = cocaLoss(tf.scalar(0.5), tf.scalar(1.25));
    expect(out.loss.dataSync()[0]).toBeCloseTo(0.5 + 2 * 1.25, 6);
    const custom = cocaLoss(tf.scalar(0.5), tf.scalar(1.25), { contrastive: 0, captioning: 1 });
    expect(custom.loss.dataSync()[0]).toBeCloseTo(1.25, 6);
    expectCode(() => cocaLoss(tf.scalar(0), tf.scalar(0), { clip: 1 } as never), 'E_CONFIG');
  });
});
