// The wasm composites for the three missing backprop kernels must match tfjs-backend-cpu's reference kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initCompute, probeComputeBackends } from '../../../native-bridges/tfjs-backend.ts';

const CASES: [h: number, w: number, c: number, k: number, s: number, pad: 'same' | 'valid', mult: number, cout: number][] = [
  [16, 16, 8, 1, 1, 'same', 1, 12], [16, 16, 8, 3, 1, 'same', 1, 12], [16, 16, 8, 3, 2, 'same', 1, 12],
  [15, 13, 5, 3, 2, 'valid', 1, 7], [15, 13, 5, 3, 2, 'same', 2, 7], [9, 9, 4, 5, 1, 'same', 1, 3], [8, 8, 4, 1, 2, 'valid', 1, 3],
];

async function grads(backend: string, [h, w, c, k, s, pad, mult, cout]: (typeof CASES)[number]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => {
    const x = tf.randomNormal([3, h, w, c], 0, 1, 'float32', 1);
    const f = tf.randomNormal([k, k, c, cout], 0, 1, 'float32', 2);
    const fd = tf.randomNormal([k, k, c, mult], 0, 1, 'float32', 3);
    const r = tf.randomNormal(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad).shape, 0, 1, 'float32', 4);
    const rd = tf.randomNormal(tf.depthwiseConv2d(x as tf.Tensor4D, fd as tf.Tensor4D, s, pad).shape, 0, 1, 'float32', 5);
    const gc = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), r)))([x, f]);
    const gd = tf.grads((a, b) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), rd)))([x, fd]);
    return [gc[1], gd[0], gd[1]];
  });
  const data = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return data;
}

test('wasm backprop composites match the cpu reference kernels', async () => {
  const { backend } = await initCompute();
  assert.ok(['wasm', 'tensorflow'].includes(backend) || process.env.EDGEWISE_BACKEND === 'cpu');
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  let worst = 0;
  for (const c of CASES) {
    const ref = await grads('cpu', c);
    const got = await grads('wasm', c);
    for (let i = 0; i < ref.length; i++) {
      assert.equal(got[i].length, ref[i].length);
      let err = 0;
      let mag = 0;
      for (let j = 0; j < ref[i].length; j++) {
        err = Math.max(err, Math.abs(ref[i][j] - got[i][j]));
        mag = Math.max(mag, Math.abs(ref[i][j]));
      }
      worst = Math.max(worst, err / (mag || 1));
    }
  }
  await tf.setBackend('wasm');
  assert.ok(worst < 1e-4, `worst relative error ${worst}`);
  // Only the cached im2col indices (kept on purpose) may remain.
  assert.ok(tf.memory().numTensors - before <= CASES.length * 2, `leaked ${tf.memory().numTensors - before} tensors`);
});

test('the wasm composites reject dilation > 1 with a clear message (tfjs gradients never ask, direct callers might)', async () => {
  await initCompute();
  await tf.setBackend('wasm');
  const x = tf.ones([1, 8, 8, 2]);
  const dy = tf.ones([1, 8, 8, 2]);
  const attrs = { strides: [1, 1], pad: 'same', dilations: [2, 2], filterShape: [3, 3, 2, 1] } as unknown as tf.NamedAttrMap;
  assert.throws(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs),
    /DepthwiseConv2dNativeBackpropFilter on wasm: dilations \[2,2\] are not supported/);
  tf.dispose([x, dy]);
});

test('probeComputeBackends reports wasm and cpu as available here', async () => {
  const { backends } = await probeComputeBackends();
  const byName = Object.fromEntries(backends.map((b) => [b.name, b]));
  assert.equal(byName.wasm.available, true);
  assert.equal(byName.cpu.available, true);
  assert.match(byName.tensorflow.detail, /tfjs-node/);
});
