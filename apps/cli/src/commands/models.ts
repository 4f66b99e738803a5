import { listModels, modelConfig } from '@tessera/models';
import { Command } from 'commander';

/** `tessera models [name]`: the presets, or one preset's config as JSON. */
export function createModelsCommand(): Command {
  return new Command('models')
    .description('List the built-in model presets, or print one preset config (JSON) to copy into a run config')
    .argument('[name]', 'a preset name, e.g. clip-tiny')
    .action((name?: string) => {
      if (name) {
        console.log(JSON.stringify(modelConfig(name), null, 2));
        return;
      }
      for (const n of listModels()) {
        const c = modelConfig(n);
        console.log(
          `${n.padEnd(12)} ${c.type.padEnd(6)} image ${c.vision.imageSize}px/patch ${c.vision.patchSize}, vision ${c.vision.dim}x${c.vision.numLayers}, text ${c.text.dim}x${c.text.numLayers}, embed ${c.embedDim}`,
        );
      }
    });
}
