// The CLIP loss from @tessera/objectives inside a plain TensorFlow.js model: two tf.layers
// towers map paired "image" and "text" features into one space; the loss aligns the pairs.
// Usage: tsx clip-loss-tfjs.ts [steps]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@tessera/core';
import { clipLoss } from '@tessera/objectives';

const steps = Number(process.argv[2] ?? 40);
await initBackend(); // the fastest backend here: tfjs-node, native or wasm kernels

const batch = 8;
const tower = (inputDim: number, seed: number) =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [inputDim],
        units: 32,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({ units: 16, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
const imageTower = tower(12, 1);
const textTower = tower(20, 3);

// Pair i: two different random views of the same latent vector.
const latent = tf.randomNormal([batch, 6], 0, 1, 'float32', 7);
const images = tf.matMul(latent, tf.randomNormal([6, 12], 0, 1, 'float32', 8));
const texts = tf.matMul(latent, tf.randomNormal([6, 20], 0, 1, 'float32', 9));
const logitScale = tf.scalar(Math.log(1 / 0.07)); // CLIP's initial temperature, fixed here

const variables = [...imageTower.trainableWeights, ...textTower.trainableWeights].map((w) => w.read() as tf.Variable);
const optimizer = tf.train.adam(0.01);
const lossOf = () =>
  clipLoss({
    imageEmbeds: imageTower.apply(images) as tf.Tensor2D,
    textEmbeds: textTower.apply(texts) as tf.Tensor2D,
    logitScale, // a log scale; clipLoss L2-normalises the embeddings and applies exp(scale)
  }).loss;

console.log(`chance level: ln(${batch}) = ${Math.log(batch).toFixed(4)}`);
for (let step = 0; step <= steps; step++) {
  const loss = step === steps ? tf.tidy(lossOf) : (optimizer.minimize(lossOf, true, variables) as tf.Scalar);
  if (step % 10 === 0 || step === steps) console.log(`step ${step} loss ${(await loss.data())[0]?.toFixed(4)}`);
  loss.dispose();
}

// Each image should now pick its own text out of the batch.
const correct = tf.tidy(() => {
  const a = tf.div(imageTower.apply(images) as tf.Tensor2D, tf.norm(imageTower.apply(images) as tf.Tensor2D, 2, 1, true));
  const b = tf.div(textTower.apply(texts) as tf.Tensor2D, tf.norm(textTower.apply(texts) as tf.Tensor2D, 2, 1, true));
  return tf.sum(tf.cast(tf.equal(tf.argMax(tf.matMul(a, b, false, true), 1), tf.range(0, batch, 1, 'int32')), 'int32')).dataSync()[0];
});
console.log(`image-to-text top-1: ${correct}/${batch}`);
