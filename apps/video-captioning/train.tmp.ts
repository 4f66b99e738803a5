import { createTrainCaptionerCommand } from './src/index.js';

const t0 = Date.now();
await createTrainCaptionerCommand().parseAsync(
  ['node', 'train-captioner', '--config', '../../datasets/moving-emoji/captioner-tiny.yaml', '--no-progress', ...process.argv.slice(2)],
  { from: 'node' },
);
console.log('wall', (Date.now() - t0) / 1000, 's');
