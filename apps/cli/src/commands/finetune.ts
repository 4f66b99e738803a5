import { Command } from 'commander';
import { finetuneClassifier } from '../clip/finetune.js';
import { numberOption, startBackend } from './shared.js';

/** `tessera finetune --checkpoint dir --data train.jsonl --label-key category --out dir` */
export function createFinetuneCommand(): Command {
  const positive = (name: string) => numberOption(name, (n) => n > 0);
  const positiveInt = (name: string) => numberOption(name, (n) => Number.isInteger(n) && n > 0);
  return new Command('finetune')
    .description("Fine-tune a trained model's vision tower with a [CLS] classification head (linear + softmax) on a labelled manifest")
    .requiredOption('--checkpoint <dir>', 'model directory to start from, e.g. runs/demo/model')
    .requiredOption('--data <manifest>', 'training manifest; the class is the row field named by --label-key')
    .requiredOption('--label-key <field>', 'manifest field holding the class, e.g. category')
    .requiredOption('--out <dir>', 'output directory (classifier.safetensors, classes.json, metrics)')
    .option('--eval <manifest>', 'held-out manifest to report accuracy on')
    .option('--epochs <n>', 'passes over the data', positiveInt('--epochs'), 3)
    .option('--lr <x>', 'peak learning rate', positive('--lr'), 3e-4)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), 64)
    .option('--freeze', 'train only the head (a linear probe)', false)
    .addHelpText(
      'after',
      '\nExample:\n  tessera finetune --checkpoint runs/demo/model --data data/emoji/train.jsonl --eval data/emoji/test.jsonl --label-key category --out runs/category',
    )
    .action(
      async (o: {
        checkpoint: string;
        data: string;
        labelKey: string;
        out: string;
        eval?: string;
        epochs: number;
        lr: number;
        batchSize: number;
        freeze: boolean;
      }) => {
        await startBackend();
        const result = await finetuneClassifier({
          checkpoint: o.checkpoint,
          data: o.data,
          eval: o.eval,
          labelKey: o.labelKey,
          outputDir: o.out,
          freezeEncoder: o.freeze,
          train: { lr: o.lr, epochs: o.epochs, batchSize: o.batchSize, warmupSteps: 10, weightDecay: 0.05 },
        });
        console.log(
          `${result.classes.length} classes; ${result.accuracy === null ? 'no --eval given' : `accuracy on ${o.eval}: ${(100 * result.accuracy).toFixed(1)} %`}`,
        );
        console.log(`classifier: ${result.outputDir}`);
      },
    );
}
