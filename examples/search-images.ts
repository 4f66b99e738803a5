// Search a folder of images by text with a CLIP model folder: a Hugging Face CLIPModel
// directory (config.json, model.safetensors, tokenizer.json, preprocessor_config.json) or one
// written by `train-clip.ts`.
// Usage: tsx search-images.ts <model-dir> <image-dir> "a query" ["another query" ...]
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { type DualEncoder, embedImages, embedTexts, loadModel } from '@tessera/models';

const [modelDir, imageDir, ...queries] = process.argv.slice(2);
if (!modelDir || !imageDir || queries.length === 0) {
  console.error('usage: search-images.ts <model-dir> <image-dir> <query> [query ...]');
  process.exit(2);
}

await initBackend();
const { model, tokenizer, processor } = await loadModel(modelDir); // a Tessera or Hugging Face folder, read locally
if (!tokenizer || !processor) throw new Error(`${modelDir} needs a tokenizer and an image processor`);
const clip = model as DualEncoder;

const files = (await readdir(imageDir)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();
// decode + resize + normalise exactly as the folder's preprocessor_config.json says
const images = await Promise.all(files.map((f) => processor.decode(path.join(imageDir, f))));

// Unit-length embeddings: [images, D] and [queries, D]; cosine similarity is their dot product.
const imageEmbeds = embedImages(clip, processor, images);
const textEmbeds = embedTexts(clip, tokenizer, queries, 77);
const cosine = tf.matMul(textEmbeds, imageEmbeds, false, true).arraySync() as number[][];
const scale = Math.exp(clip.logit_scale.dataSync()[0] as number); // CLIP's learned temperature

queries.forEach((query, q) => {
  const results = files
    .map((image, i) => ({ image, cosine: cosine[q]?.[i] as number, logit: scale * (cosine[q]?.[i] as number) }))
    .sort((a, b) => b.cosine - a.cosine);
  console.log(JSON.stringify({ query, results }));
});
tf.dispose([imageEmbeds, textEmbeds]);
