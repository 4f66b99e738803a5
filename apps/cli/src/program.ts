import { createEvalRetrievalCommand, createRetrievalCommands } from '@tessera/retrieval';
import { createTokenizerCommand } from '@tessera/tokenizer';
import { createCaptionCommand, createEvalCaptionsCommand } from '@tessera/video-captioning';
import { Command } from 'commander';
import { createDataCommand } from './commands/data.js';
import { createExportCommand } from './commands/export.js';
import { createModelsCommand } from './commands/models.js';
import { createServeCommand } from './commands/serve.js';
import { createTrainCommand } from './commands/train.js';

/** The whole `tessera` command tree (exported for tests and for embedding). */
export function createProgram(): Command {
  const program = new Command('tessera')
    .description(
      'Tessera: multimodal pretraining in TypeScript. Build text-image and video datasets, train CLIP and video captioners, evaluate, fine-tune, search and serve.',
    )
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Quickstart:
  tessera data emoji --out data/emoji                      # real text-image pairs, English + Chinese captions
  tessera train --config datasets/emoji/clip-tiny.yaml     # a tiny CLIP in a few minutes
  tessera eval retrieval --checkpoint runs/demo/model --data data/emoji/test.jsonl --lang en,zh
  tessera index --checkpoint runs/demo/model --images data/emoji/test.jsonl --store runs/emoji.store
  tessera search --store runs/emoji.store "红心"                # or: tessera serve --store runs/emoji.store
  tessera data moving-emoji --out data/moving-emoji --clips 300
  tessera train --config datasets/moving-emoji/captioner-tiny.yaml
  tessera caption clip.mp4 --checkpoint runs/captioner-tiny/model --lang zh
  tessera serve --store runs/emoji.store --captioner runs/captioner-tiny/model   # POST /search and POST /caption

A Hugging Face folder (CLIP, Chinese-CLIP, SigLIP; downloaded on a connected machine) works
wherever --checkpoint is taken:
  tessera index --checkpoint ./clip-vit-base-patch32 --images ~/Pictures --store photos.store
  tessera embed --checkpoint ./clip-vit-base-patch32 --text "a dog on the beach" --json
  tessera train --config datasets/emoji/clip-finetune.yaml --init ./clip-vit-base-patch32
  tessera export --checkpoint runs/clip-finetune/model --format hf --out exports/my-clip`,
    );
  program.addCommand(createDataCommand());
  program.addCommand(createTokenizerCommand());
  program.addCommand(createModelsCommand());
  program.addCommand(createTrainCommand());
  program.addCommand(
    new Command('eval')
      .description('Evaluate a trained model')
      .addCommand(createEvalRetrievalCommand())
      .addCommand(createEvalCaptionsCommand()),
  );
  for (const command of createRetrievalCommands()) program.addCommand(command);
  program.addCommand(createServeCommand());
  program.addCommand(createCaptionCommand());
  program.addCommand(createExportCommand());
  return program;
}
