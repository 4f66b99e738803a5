import { tf } from '@tessera/core';
import type { Captioner } from '@tessera/models';

/**
 * Greedy decoding that re-runs the decoder over the whole prefix at every step (no key/value
 * cache): the reference that the cached `Captioner.generate` must agree with, and the peer of
 * the decoding-speed benchmark. Returns generated ids per clip (start token and EOS excluded).
 */
export function greedyDecodeUncached(model: Captioner, video: tf.Tensor, startId: number, maxNewTokens?: number): number[][] {
  const eosId = model.specialIds.eos;
  const limit = maxNewTokens ?? model.config.maxLength - 1;
  const states = model.encode(video);
  const batch = states.shape[0] as number;
  const prefixes = Array.from({ length: batch }, () => [startId]);
  const done = new Array<boolean>(batch).fill(false);
  try {
    for (let step = 0; step < limit && done.some((d) => !d); step++) {
      const length = step + 1;
      const next = tf.tidy(() => {
        const ids = tf.tensor2d(Int32Array.from(prefixes.flat()), [batch, length], 'int32');
        const { logits } = model.decoder.forward(ids, { encoderStates: states });
        const last = tf.reshape(tf.slice(logits, [0, length - 1, 0], [batch, 1, -1]), [batch, -1]);
        // EOS is forbidden at the first step, as generate's minNewTokens 1.
        const masked = step === 0 ? tf.sub(last, tf.mul(tf.oneHot(tf.tensor1d([eosId], 'int32'), last.shape[1] as number), 1e9)) : last;
        return tf.argMax(masked, 1);
      });
      const chosen = Array.from(next.dataSync());
      next.dispose();
      chosen.forEach((id, i) => {
        // Finished rows keep being fed EOS; their output is cut at the first EOS below.
        prefixes[i]?.push(done[i] ? eosId : id);
        if (id === eosId) done[i] = true;
      });
    }
  } finally {
    states.dispose();
  }
  return prefixes.map((p) => {
    const out = p.slice(1);
    const end = out.indexOf(eosId);
    return end === -1 ? out : out.slice(0, end);
  });
}
