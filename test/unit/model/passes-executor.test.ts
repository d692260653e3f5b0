// Passes keep the computed function; the executor frees memory, runs batches, exposes intermediates and trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../../main/model/load.ts';
import { Executor, run } from '../../../main/model/executor.ts';
import { foldBatchNorm, fuseActivations, lowerBatchNorm, optimizeForExport, removeIdentities, foldConstants } from '../../../main/model/passes.ts';
import { PSEUDO_OPS } from '../../../main/model/ir.ts';
import type { Graph } from '../../../main/model/ir.ts';
import { GraphBuilder } from '../../../main/model/builder.ts';
import { FIXTURES, fixtureManifest, maxAbs, maxAbsDiff, seededInput } from '../../helpers/models.ts';

async function out(graph: Graph, x: Float32Array): Promise<Float32Array> {
  return (await run(graph, { [graph.inputs[0]]: x }))[graph.outputs[0]].data;
}

test('optimizeForExport removes pseudo-ops and keeps every fixture\'s outputs', async () => {
  await initCompute();
  const m = fixtureManifest();
  for (const e of [...m.layers, ...m.keras, ...m.graph]) {
    const { graph } = await loadModel(`${FIXTURES}${e.path}`);
    const opt = optimizeForExport(graph);
    assert.ok(!opt.ops.some((o) => PSEUDO_OPS.has(o.type)), `${e.path}: pseudo-ops left`);
    assert.deepEqual(opt.inputs, graph.inputs);
    assert.deepEqual(opt.outputs, graph.outputs, `${e.path}: output names kept`);
    const x = seededInput(e.inputShape, 3, 11);
    const a = await out(graph, x);
    const b = await out(opt, x);
    assert.ok(maxAbsDiff(a, b) <= 1e-5 * Math.max(1, maxAbs(a)), `${e.path}: passes changed outputs by ${maxAbsDiff(a, b)}`);
  }
});

test('BN folds into conv / depthwise, ReLU6 fuses, dropout disappears (convnet)', async () => {
  const { graph } = await loadModel(`${FIXTURES}tfjs/convnet/model.json`);
  const count = (g: Graph, t: string) => g.ops.filter((o) => o.type === t).length;
  assert.equal(count(graph, 'BATCH_NORM'), 2);
  const folded = foldBatchNorm(graph);
  assert.equal(count(folded, 'BATCH_NORM'), 0);
  assert.equal(count(graph, 'BATCH_NORM'), 2, 'input graph untouched');
  const fused = fuseActivations(folded);
  const c1 = fused.ops.find((o) => o.name === 'c1')!;
  assert.equal(c1.attrs.fusedActivationFunction, 'RELU6');
  assert.equal(count(fused, 'RELU6'), 0);
  assert.equal(count(removeIdentities(fused), 'DROPOUT'), 0);
});

test('BN after an ADD (unfoldable) is lowered to MUL + ADD with the same values', async () => {
  await initCompute();
  const b = new GraphBuilder('bn_after_add');
  const x = b.input('x', [-1, 4, 4, 2]);
  const s = b.op('add', 'ADD', [x, x], [-1, 4, 4, 2], { fusedActivationFunction: 'NONE' });
  const p = (n: string, v: number[]) => b.constFloat(n, [2], Float32Array.from(v));
  const y = b.op('bn', 'BATCH_NORM', [s, p('g', [1.5, 0.5]), p('b', [0.1, -0.2]), p('m', [0.3, -0.1]), p('v', [2, 0.5])], [-1, 4, 4, 2], { epsilon: 1e-3 });
  b.graph.outputs.push(y);
  const lowered = lowerBatchNorm(b.graph);
  assert.deepEqual(lowered.ops.map((o) => o.type), ['ADD', 'MUL', 'ADD']);
  const xin = seededInput([null, 4, 4, 2], 2, 3);
  assert.ok(maxAbsDiff(await out(b.graph, xin), await out(lowered, xin)) < 1e-6);
});

test('constant RESHAPE is folded into a constant', async () => {
  await initCompute();
  const b = new GraphBuilder('fold');
  const x = b.input('x', [-1, 6]);
  const w = b.constFloat('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const shape = b.constInt32('shape', [3, 2]);
  const w2 = b.op('reshape_w', 'RESHAPE', [w, shape], [3, 2], { newShape: [3, 2] });
  const flat = b.op('flat', 'RESHAPE', [w2, b.constInt32('s2', [6])], [6], { newShape: [6] });
  const y = b.op('mul', 'MUL', [x, flat], [-1, 6], { fusedActivationFunction: 'NONE' });
  b.graph.outputs.push(y);
  const folded = foldConstants(b.graph);
  assert.deepEqual(folded.ops.map((o) => o.type), ['MUL']);
  assert.deepEqual(Array.from(folded.tensors.get('flat')!.data as Float32Array), [1, 2, 3, 4, 5, 6]);
});

test('SHAPE of a static tensor folds, and so does the RESHAPE that uses it', async () => {
  await initCompute();
  const b = new GraphBuilder('shape');
  const x = b.input('x', [-1, 6]);
  const w = b.constFloat('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const target = b.constFloat('target', [6, 1], new Float32Array(6));
  const s = b.op('shape_of', 'SHAPE', [target], [2], {}, undefined, 'int32');
  const w2 = b.op('reshape_w', 'RESHAPE', [w, s], [6, 1]);
  const y = b.op('fc', 'FULLY_CONNECTED', [x, b.constFloat('fcw', [1, 6], new Float32Array(6).fill(1)), ''], [-1, 1], { fusedActivationFunction: 'NONE' });
  const z = b.op('mul', 'MUL', [y, b.op('sum_w', 'SUM', [w2, b.constInt32('axes', [0])], [1], { keepDims: false })], [-1, 1], { fusedActivationFunction: 'NONE' });
  b.graph.outputs.push(z);
  const folded = foldConstants(b.graph);
  assert.deepEqual(folded.ops.map((o) => o.type), ['FULLY_CONNECTED', 'MUL']);
  assert.deepEqual(Array.from(folded.tensors.get('sum_w')!.data as Float32Array), [21]);
});

test('graph-model Conv2D + BiasAdd becomes one CONV_2D with the bias folded in', async () => {
  const { graph } = await loadModel(`${FIXTURES}tfjs-graph/convnet/model.json`);
  assert.ok(graph.ops.some((o) => o.name === 'c2b' && o.type === 'ADD'));
  const opt = optimizeForExport(graph);
  assert.ok(!opt.ops.some((o) => o.name === 'c2b'), 'the BiasAdd is gone');
  const c2 = opt.ops.find((o) => o.name === 'c2')!;
  assert.equal(c2.outputs[0], 'c2b', 'the conv now produces the BiasAdd output');
  assert.notDeepEqual(Array.from(opt.tensors.get(c2.inputs[2])!.data as Float32Array), [0, 0, 0, 0]);
});

test('TANH is not fused (TFLite kernels would drop it)', async () => {
  const b = new GraphBuilder('tanh');
  const x = b.input('x', [-1, 3]);
  const fc = b.op('fc', 'FULLY_CONNECTED', [x, b.constFloat('w', [3, 3], new Float32Array(9).fill(0.5)), b.constFloat('bias', [3], new Float32Array(3))], [-1, 3], { fusedActivationFunction: 'NONE' });
  b.graph.outputs.push(b.op('t', 'TANH', [fc], [-1, 3]));
  assert.deepEqual(fuseActivations(b.graph).ops.map((o) => o.type), ['FULLY_CONNECTED', 'TANH']);
});

test('executor: intermediates, batches, no tensor leaks', async () => {
  await initCompute();
  const { graph } = await loadModel(`${FIXTURES}tfjs/convnet/model.json`);
  const ex = new Executor(graph);
  const x1 = seededInput([null, 16, 16, 3], 1, 5);
  const x5 = seededInput([null, 16, 16, 3], 5, 5);
  x5.set(x1, 0);
  await ex.runData({ [graph.inputs[0]]: x1 }); // warm the weight cache
  const before = tf.memory().numTensors;
  const every = graph.ops.map((o) => o.outputs[0]);
  const r = await ex.runData({ [graph.inputs[0]]: x5 }, { outputs: every });
  assert.equal(Object.keys(r).length, every.length);
  assert.deepEqual(r.c1.shape, [5, 16, 16, 8]);
  const one = await ex.runData({ [graph.inputs[0]]: x1 });
  const five = r[graph.outputs[0]];
  assert.ok(maxAbsDiff(one[graph.outputs[0]].data, five.data.subarray(0, 10)) < 1e-6, 'batch row 0 equals batch-1 run');
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.throws(() => ex.run({ [graph.inputs[0]]: new Float32Array(7) }), /multiple of 768/);
  ex.dispose();
});

test('executor: trainable variables get gradients and training lowers the loss', async () => {
  await initCompute();
  const { graph } = await loadModel(`${FIXTURES}tfjs/mlp/model.json`);
  const ex = new Executor(graph);
  const weights = graph.ops.filter((o) => o.type === 'FULLY_CONNECTED').map((o) => o.inputs[1]);
  const vars = ex.trainableVariables(weights);
  const xs = tf.tensor(seededInput([null, 20], 16, 9), [16, 20]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 4), 'int32'), 4);
  const loss = () => tf.tidy(() => tf.mean(tf.metrics.categoricalCrossentropy(ys, ex.forward({ [graph.inputs[0]]: xs })[0])) as tf.Scalar);
  const first = loss().dataSync()[0];
  const { grads } = tf.variableGrads(loss, [...vars.values()]);
  assert.equal(Object.keys(grads).length, weights.length);
  assert.ok(Object.values(grads).every((g) => maxAbs(g.dataSync()) > 0));
  tf.dispose(Object.values(grads));
  const opt = tf.train.adam(0.01);
  for (let i = 0; i < 30; i++) opt.minimize(loss, false, [...vars.values()]);
  const last = loss().dataSync()[0];
  assert.ok(last < first * 0.8, `loss ${first} → ${last}`);
  const updated = ex.variableData();
  assert.notDeepEqual(Array.from(updated.get(weights[0])!), Array.from(graph.tensors.get(weights[0])!.data as Float32Array));
  opt.dispose();
  tf.dispose([xs, ys]);
  ex.dispose();
});
