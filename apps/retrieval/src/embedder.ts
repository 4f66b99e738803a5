import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { TesseraError, type tf } from '@tessera/core';
import { type ContrastiveEncoder, embedImages, embedTexts, listHfWeights, loadModel } from '@tessera/models';
import { type DecodedImage, decodeImage, ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';

/** Longest text query accepted, in characters (longer input is cut by the tokenizer anyway). */
export const MAX_QUERY_CHARS = 512;

/**
 * A loaded checkpoint that turns images and texts into unit-length embeddings. Its `modelId`
 * (config name + hash of the weights) is what stores are stamped with, so a store built by one
 * checkpoint refuses queries from a retrained one.
 */
export class Embedder {
  /** Embedding width, measured on a probe text at load time. */
  dim = 0;

  private constructor(
    readonly modelId: string,
    private readonly model: ContrastiveEncoder & { dispose(): void },
    /** Null for a vision tower alone (e.g. a CLIPVisionModelWithProjection folder). */
    readonly tokenizer: Tokenizer | null,
    /** Null for a text tower alone. */
    private readonly processor: ImageProcessor | null,
    private readonly maxLength: number,
  ) {}

  /**
   * Loads a Tessera model directory or a Hugging Face folder (a dual encoder, or one tower:
   * then only its side embeds). Call `initBackend` first.
   */
  static async load(dir: string): Promise<Embedder> {
    const loaded = await loadModel(dir);
    const model = loaded.model as unknown as ContrastiveEncoder & { dispose(): void };
    if (typeof model.encodeImage !== 'function' || typeof model.encodeText !== 'function') {
      model.dispose();
      throw new TesseraError('E_CONFIG', `${dir} is not a dual encoder (needs encodeImage/encodeText): use a CLIP checkpoint`);
    }
    const hasVision = 'vision' in loaded.config;
    const hasText = 'text' in loaded.config;
    if (hasText && !loaded.tokenizer) {
      model.dispose();
      throw new TesseraError('E_IO', `${dir} has no tokenizer.json: retrieval needs the tokenizer the model was trained with`);
    }
    // Every weight file, so a sharded Hugging Face folder is stamped as well as a single file.
    const hash = createHash('sha256');
    const files = [...new Set([...(await listHfWeights(dir)).values()].map((entry) => entry.file))].sort();
    // Streamed: a ViT-B/32 folder is 600 MB, which must not sit in memory beside the model.
    for (const file of files) for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const digest = hash.digest('hex').slice(0, 16);
    const name = (loaded.config as { name?: string }).name ?? path.basename(path.resolve(dir));
    const processor = hasVision ? (loaded.processor ?? new ImageProcessor()) : null;
    const tokenizer = hasText ? loaded.tokenizer : null;
    const maxLength = tokenizer?.settings.truncation?.maxLength ?? 32;
    const embedder = new Embedder(`${name}@${digest}`, model, tokenizer, processor, maxLength);
    const blank = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 as const, format: 'raw', source: 'probe' };
    embedder.dim = (hasText ? embedder.embedTexts(['probe']) : embedder.embedImages([blank]))[0]?.length ?? 0;
    return embedder;
  }

  /** Decodes image bytes or a path (TesseraError with an input code on bad data). */
  decode(input: string | Uint8Array, name?: string): Promise<DecodedImage> {
    return decodeImage(input, name === undefined ? {} : { name });
  }

  /** Unit-length embeddings of decoded images, one Float32Array per image. */
  embedImages(images: readonly DecodedImage[]): Float32Array[] {
    if (images.length === 0) return [];
    if (!this.processor) throw new TesseraError('E_QUERY', `${this.modelId} is a text tower only: it embeds texts, not images`);
    return rows(embedImages(this.model, this.processor, images));
  }

  /** Unit-length embeddings of texts, one Float32Array per text. */
  embedTexts(texts: readonly string[]): Float32Array[] {
    if (texts.length === 0) return [];
    if (!this.tokenizer) throw new TesseraError('E_QUERY', `${this.modelId} is a vision tower only: it embeds images, not texts`);
    return rows(embedTexts(this.model, this.tokenizer, texts, this.maxLength));
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Copies a [N, D] tensor into N rows and disposes it. */
function rows(matrix: tf.Tensor): Float32Array[] {
  const [n, d] = matrix.shape as [number, number];
  const flat = matrix.dataSync() as Float32Array;
  matrix.dispose();
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
