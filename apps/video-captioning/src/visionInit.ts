import { TesseraError, tf } from '@tessera/core';
import { type Captioner, loadModel } from '@tessera/models';

/**
 * Starts a captioner's video encoder from the vision tower of a CLIP (or ALBEF) model
 * directory, as BLIP and CoCa start from a pretrained ViT: in 'joint' mode the patch projection,
 * the position embeddings (without the [CLS] row), every encoder layer and the final layer norm;
 * in 'frames' mode the whole per-frame ViT. The temporal embeddings and the decoder keep their
 * fresh initialisation. The architectures must match; the error says which captioner settings
 * to change. Returns how many tensors were copied.
 */
export async function initVisionFromClip(captioner: Captioner, clipDir: string): Promise<number> {
  const clip = await loadModel(clipDir);
  try {
    if (!('vision' in clip.config))
      throw new TesseraError('E_CONFIG', `init.vision: ${clipDir} holds a text tower only; give a model with a vision tower`);
    const vision = clip.config.vision;
    const c = captioner.config;
    const wanted: Array<[string, number, number]> = [
      ['imageSize', c.imageSize, vision.imageSize],
      ['patchSize', c.patchSize, vision.patchSize],
      ['visionDim', c.visionDim, vision.dim],
      ['visionLayers', c.visionLayers, vision.numLayers],
      ['visionHeads', c.visionHeads, vision.numHeads],
    ];
    const mismatched = wanted.filter(([, ours, theirs]) => ours !== theirs);
    const mlpDim = vision.mlpDim ?? 4 * vision.dim;
    if (mismatched.length > 0 || mlpDim !== 4 * vision.dim || (vision.channels ?? 3) !== 3) {
      throw new TesseraError(
        'E_CONFIG',
        mismatched.length > 0
          ? `the captioner's vision tower must match ${clipDir}: set ${mismatched.map(([k, , v]) => `model.${k}: ${v}`).join(', ')}`
          : `${clipDir} has a vision MLP of ${mlpDim} (captioners use 4 x dim) or non-RGB input; it cannot initialise a captioner`,
      );
    }
    const source = new Map([...clip.model.namedParameters()].map(([name, p]) => [name, p.variable]));
    const targets = [...captioner.namedParameters()].filter(
      ([name]) => name.startsWith('video.') && !name.startsWith('video.temporal_embedding'),
    );
    let copied = 0;
    for (const [name, { variable }] of targets) {
      const from = source.get(name.replace(/^video\.(vision\.)?/, 'vision_model.'));
      if (!from) throw new TesseraError('E_MODEL_FORMAT', `${clipDir} has no vision tensor for the captioner's ${name}`);
      const value = tf.tidy(() => {
        // Joint mode has no [CLS] token: drop its position row.
        if (name === 'video.embeddings.position_embeddings' && from.shape[1] === (variable.shape[1] as number) + 1)
          return tf.slice(from, [0, 1, 0], variable.shape);
        return tf.clone(from);
      });
      if (value.shape.join() !== variable.shape.join()) {
        value.dispose();
        throw new TesseraError('E_MODEL_FORMAT', `${name}: [${variable.shape}] in the captioner, [${from.shape}] in ${clipDir}`);
      }
      variable.assign(value);
      value.dispose();
      copied += 1;
    }
    return copied;
  } finally {
    clip.model.dispose();
  }
}
