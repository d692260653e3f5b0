// Every generated fixture imports, and the IR executor reproduces the source model run in tfjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../../main/model/load.ts';
import { Executor } from '../../../main/model/executor.ts';
import { validateGraph } from '../../../main/model/ir.ts';
import type { Graph } from '../../../main/model/ir.ts';
import {
  FIXTURES, fidelityTolerance, fixtureManifest, loadGraphReference, loadLayersReference, maxAbsDiff, predict, seededInput,
} from '../../helpers/models.ts';

const BATCH = 4;

async function execute(graph: Graph, x: Float32Array): Promise<Float32Array> {
  const ex = new Executor(graph);
  try {
    return (await ex.runData({ [graph.inputs[0]]: x }))[graph.outputs[0]].data;
  } finally {
    ex.dispose();
  }
}

/** keras_extras has layers tfjs lacks; its reference is written with tf ops from the graph's own constants. */
function kerasExtrasReference(graph: Graph, x: Float32Array): Float32Array {
  const c = (suffix: string) => {
    const t = [...graph.tensors.values()].find((v) => v.name.endsWith(suffix) && v.data)!;
    return tf.tensor(t.data as Float32Array, t.shape);
  };
  return tf.tidy(() => {
    // Normalization: mean/variance stored in the file (0.1,-0.2,0.3 / 0.5,2,1.5); recompute from definition.
    const xin = tf.tensor(x, [BATCH, 4, 4, 3]);
    const norm = tf.div(tf.sub(xin, tf.tensor1d([0.1, -0.2, 0.3])), tf.sqrt(tf.tensor1d([0.5, 2, 1.5])));
    const conv = (k: string) => tf.add(tf.conv2d(norm as tf.Tensor4D, tf.transpose(c(`${k}/kernel`), [1, 2, 3, 0]) as tf.Tensor4D, 1, 'valid'), c(`${k}/bias`));
    const hs = conv('conv_hs');
    const hardSilu = tf.div(tf.mul(hs, tf.relu6(tf.add(hs, 3))), 6);
    const si = conv('conv_silu');
    const silu = tf.mul(si, tf.sigmoid(si));
    const pooled = tf.mean(tf.sub(hardSilu, silu), [1, 2]);
    return tf.add(tf.matMul(pooled, c('out/kernel'), false, true), c('out/bias')).dataSync() as Float32Array;
  });
}

test('every fixture imports and the executor matches the source model', async () => {
  await initCompute();
  const m = fixtureManifest();
  const cases = [
    ...m.layers.map((e) => ({ ...e, kind: 'tfjs-layers', ref: e.path })),
    ...m.keras.map((e) => ({ ...e, kind: 'keras', ref: e.twin })),
    ...m.h5.map((e) => ({ ...e, kind: 'h5', ref: e.twin })),
    ...m.graph.map((e) => ({ ...e, kind: 'tfjs-graph', ref: e.path })),
  ];
  assert.ok(cases.length >= 19);
  for (const c of cases) {
    const { graph, format } = await loadModel(`${FIXTURES}${c.path}`);
    assert.equal(format, c.kind, c.path);
    validateGraph(graph);
    const shape = [BATCH, ...(c.inputShape.slice(1) as number[])];
    const x = seededInput(c.inputShape, BATCH, 7);
    const got = await execute(graph, x);
    let ref: Float32Array;
    if (c.name === 'keras_extras') ref = kerasExtrasReference(graph, x);
    else if (c.kind === 'tfjs-graph') ref = await predict(await loadGraphReference(`${FIXTURES}${c.ref}`), x, shape);
    else {
      // Keras (TF2) bilinear upsampling uses half-pixel centres, tfjs does not: the tfjs twin is not a reference there.
      if (c.name === 'upsample_bilinear' && c.kind !== 'tfjs-layers') {
        const op = graph.ops.find((o) => o.type === 'RESIZE_BILINEAR')!;
        assert.equal(op.attrs.halfPixelCenters, true);
        continue;
      }
      ref = await predict(await loadLayersReference(`${FIXTURES}${c.ref}`), x, shape);
    }
    const diff = maxAbsDiff(got, ref);
    assert.ok(diff <= fidelityTolerance(ref), `${c.path}: executor vs source max |Δ| ${diff}`);
  }
});

test('.keras, .h5 and tfjs imports of the same model give the same graph structure', async () => {
  const a = (await loadModel(`${FIXTURES}tfjs/nested/model.json`)).graph;
  const b = (await loadModel(`${FIXTURES}keras/nested.keras`)).graph;
  const c = (await loadModel(`${FIXTURES}h5/nested.h5`)).graph;
  const sig = (g: Graph) => g.ops.map((o) => `${o.type}:${o.name}`).join(' ');
  assert.equal(sig(b), sig(a));
  assert.equal(sig(c), sig(a));
  assert.ok(a.ops.some((o) => o.name === 'inner_seq/ic'), 'nested layers keep their path in op names');
});
