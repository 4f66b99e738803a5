import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initBackend, tf } from '@tessera/core';
import { createModel, exportHf, type LoadedModel, loadModel, saveModel, textTensors } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The export round trip, judged by transformers itself: Tessera exports a model as a Hugging Face
// folder, then check_export.py loads it with AutoModel / AutoTokenizer / AutoImageProcessor and
// compares token ids, pixel values and features with what Tessera computed (within 1e-4).

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.join(ROOT, 'packages/models/test/fixtures/pretrained');
const CHECK = path.join(FIXTURES, 'check_export.py');
const CAPTIONS = ['a photo of a cat', 'A red heart on a white background.', '一只猫的照片', 'two dogs playing in the snow'];
/** Each fixture's own captions (they fit its tiny position table), as its make_*.py recorded them. */
const captionsOf = async (file: string) =>
  (JSON.parse(await readFile(path.join(FIXTURES, file), 'utf8')) as { captions: string[] }).captions;
const FIXTURE_CAPTIONS: Record<string, string> = {
  clip: 'expected.json',
  'clip-eos': 'expected.json',
  'clip-vision': 'expected.json',
  'clip-text': 'expected.json',
  'chinese-clip': 'expected-chinese-clip.json',
  bert: 'expected-chinese-clip.json',
  siglip: 'siglip_expected.json',
};
const IMAGES = ['gradient.png', 'checker.png'].map((f) => path.join(FIXTURES, f));

let python: string;
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-export-'));
  // Installs .venv-ref from tools/python/requirements-reference.txt the first time (about a minute).
  const setup = await run('bash', [path.join(ROOT, 'tools/python/setup-reference-env.sh')], { maxBuffer: 1 << 24 });
  python = setup.stdout.trim().split('\n').at(-1) as string;
}, 600_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rows = (t: tf.Tensor) => {
  const out = t.arraySync() as number[][];
  t.dispose();
  return out;
};

/** Tessera's ids, pixels and (unnormalised) features of the captions and images, in check_export.py's format. */
async function tesseraOutputs(loaded: LoadedModel, name: string, captions: string[]): Promise<string> {
  const { model, config, tokenizer, processor } = loaded;
  const want: Record<string, unknown> = {};
  let pixels: number[] = [];
  if (tokenizer && 'text' in config) {
    want.input_ids = captions.map((c) => tokenizer.encode(c).ids);
    const { ids: batch, mask } = textTensors(tokenizer, captions, config.text.maxPositions);
    const features = rows(model.encodeText(batch, mask, { normalize: false }));
    tf.dispose([batch, mask]);
    const key = config.type !== 'text_tower' ? 'text_features' : config.text.pooling === 'cls' ? 'cls_hidden' : 'pooler_output';
    want[key] = features;
  }
  if (processor && 'vision' in config) {
    const parts = await Promise.all(IMAGES.map((f) => processor.preprocess(f)));
    pixels = parts.flatMap((p) => Array.from(p.data));
    const [h, w] = processor.outputSize;
    const batch = tf.tensor4d(Float32Array.from(pixels), [IMAGES.length, 3, h, w]);
    want[config.type === 'vision_tower' ? 'image_embeds' : 'image_features'] = rows(model.encodeImage(batch, { normalize: false }));
    batch.dispose();
  }
  const file = path.join(dir, `${name}.expected.json`);
  await writeFile(file, JSON.stringify({ captions, images: IMAGES, pixel_values: { data: pixels }, models: { [name]: want } }));
  return file;
}

/** Exports a loaded model, then lets transformers judge the folder; returns its report. */
async function roundTrip(loaded: LoadedModel, name: string, captions: string[]): Promise<string> {
  const out = path.join(dir, name);
  await exportHf(loaded, out);
  const expected = await tesseraOutputs(loaded, name, captions);
  loaded.model.dispose();
  try {
    return (await run(python, [CHECK, out, expected, '--model', name])).stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`transformers disagrees with Tessera's export of ${name}:\n${e.stdout}\n${e.stderr}`);
  }
}

describe('Tessera exports that transformers reloads with the same outputs', () => {
  for (const [fixture, captionsFile] of Object.entries(FIXTURE_CAPTIONS)) {
    it(`${fixture}: a Hugging Face folder loaded by Tessera and exported again`, async () => {
      const report = await roundTrip(await loadModel(path.join(FIXTURES, fixture)), fixture, await captionsOf(captionsFile));
      expect(report).toMatch(/OK\s*$/);
    });
  }

  it('a model trained in Tessera (clip-tiny-hf with its own WordPiece tokenizer)', async () => {
    const tokenizer = trainWordPieceTokenizer([...CAPTIONS, 'a red heart', '红心', 'two cats'], { vocabSize: 200 });
    tokenizer.setTruncation({ maxLength: 16 });
    const created = createModel('clip-tiny-hf', {
      vocabSize: tokenizer.vocabSize,
      eosTokenId: tokenizer.specialTokens.sep?.id,
      seed: 3,
    });
    const modelDir = path.join(dir, 'tessera-model');
    await saveModel(modelDir, {
      ...created,
      tokenizer,
      processor: new ImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } }),
    });
    created.model.dispose();
    const report = await roundTrip(await loadModel(modelDir), 'clip-tiny-hf', CAPTIONS);
    expect(report).toMatch(/OK\s*$/);
  });
});
