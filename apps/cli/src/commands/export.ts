import { readdir } from 'node:fs/promises';
import { initBackend, TesseraError } from '@tessera/core';
import { exportHf, loadModel } from '@tessera/models';
import { Command } from 'commander';

/** True when `dir` is missing or empty, so an export cannot mix with another model's files. */
async function isFreeFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** `tessera export --checkpoint dir --format hf --out dir` */
export function createExportCommand(): Command {
  return new Command('export')
    .description('Write a model as a Hugging Face folder that transformers loads (AutoModel, AutoTokenizer, AutoImageProcessor)')
    .requiredOption('--checkpoint <dir>', 'Tessera model directory (e.g. runs/demo/model) or Hugging Face folder')
    .requiredOption('--out <dir>', 'the folder to write: config.json, model.safetensors, tokenizer and preprocessor files')
    .option('--format <format>', "output format; 'hf' (Hugging Face transformers) is the one there is", 'hf')
    .option('--overwrite', 'write into a folder that already holds files', false)
    .addHelpText(
      'after',
      `
Example:
  tessera export --checkpoint runs/demo/model --format hf --out exports/clip-demo
  python -c "from transformers import AutoModel; AutoModel.from_pretrained('exports/clip-demo')"

CLIP, Chinese-CLIP and SigLIP architectures export; a setting no Hugging Face type expresses
(e.g. mean pooling) is refused with its name, and nothing is written.`,
    )
    .action(async (o: { checkpoint: string; out: string; format: string; overwrite: boolean }) => {
      if (o.format !== 'hf') throw new TesseraError('E_CONFIG', `--format must be 'hf', got '${o.format}'`);
      if (!o.overwrite && !(await isFreeFolder(o.out)))
        throw new TesseraError('E_EXPORT', `${o.out} already holds files: give a new or empty folder, or add --overwrite`, {
          details: { path: o.out },
        });
      await initBackend();
      const loaded = await loadModel(o.checkpoint);
      try {
        await exportHf(loaded, o.out);
      } finally {
        loaded.model.dispose();
      }
      console.log(`exported ${o.checkpoint} to ${o.out} (Hugging Face format)`);
    });
}
