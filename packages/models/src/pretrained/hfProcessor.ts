import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';
import { ImageProcessor } from '@tessera/patches';
import { readHfJson } from './hfFolder.js';

export const HF_PREPROCESSOR_FILE = 'preprocessor_config.json';

/**
 * Keys transformers writes that do not change the pixels at the values given here (they are
 * dropped); any other value, or an unknown key, is refused by ImageProcessor's schema.
 */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  default_to_square: () => true, // size comes as a dict here; an int size is read as shortest_edge
  data_format: (v) => v === 'channels_first' || v == null,
  input_data_format: (v) => v == null,
  return_tensors: (v) => v == null,
  device: (v) => v == null,
  crop_pct: (v) => v == null,
  do_pad: (v) => v == null || v === false,
  pad_size: (v) => v == null,
  disable_grouping: () => true,
  backend: () => true,
};

/** Processor types (and their `*Pil` / `*Fast` forms) without a center crop. */
const NO_CROP = ['SiglipImageProcessor', 'BlipImageProcessor'];

/**
 * The image processor of a Hugging Face folder, from `preprocessor_config.json` with the
 * CLIPImageProcessor keys (`size` as shortest_edge or height/width, `crop_size`,
 * `do_center_crop`, `resample`, `image_mean`/`image_std`, `rescale_factor`, `do_convert_rgb`).
 * A missing file, malformed JSON or an unsupported key is E_PRETRAINED_PROCESSOR naming it.
 */
export async function loadHfProcessor(dir: string): Promise<ImageProcessor> {
  const file = path.join(dir, HF_PREPROCESSOR_FILE);
  try {
    await stat(file);
  } catch {
    throw new TesseraError(
      'E_PRETRAINED_PROCESSOR',
      `${file} is missing: the model has an image tower, so its folder needs the preprocessor_config.json it was published with`,
      { details: { path: file } },
    );
  }
  const raw = await readHfJson(file, 'E_PRETRAINED_PROCESSOR', 'the image preprocessing');
  const config = Object.fromEntries(Object.entries(raw).filter(([k, v]) => !(k in NEUTRAL && (NEUTRAL[k] as (v: unknown) => boolean)(v))));
  // SiglipImageProcessor and BlipImageProcessor resize to size {height, width} and have no crop
  // step: their configs omit do_center_crop.
  const type = raw.image_processor_type;
  if (typeof type === 'string' && NO_CROP.some((t) => type.startsWith(t))) config.do_center_crop ??= false;
  try {
    return ImageProcessor.fromConfig(config);
  } catch (cause) {
    throw new TesseraError('E_PRETRAINED_PROCESSOR', `${file}: ${(cause as Error).message}`, { details: { path: file }, cause });
  }
}
