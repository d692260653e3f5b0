/**
 * Float export of every op type the importers produce: small hand-built IR graphs are exported, run in the real
 * TFLite runtime and compared with an independent tfjs (cpu) reference on the same weights.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Graph, Op, Tensor, TensorData } from '../../../main/model/ir.ts';
import { exportTflite, graphToTflite } from '../../../main/tflite/from-ir.ts';
import { readTflite } from '../../../main/tflite/reader.ts';
import { metadataString } from '../../../main/tflite/model.ts';
import { rng, runModel } from './helpers.ts';

before(async () => {
  await tf.setBackend('cpu');
});

class G {
  readonly graph: Graph = { name: 'test', inputs: [], outputs: [], tensors: new Map(), ops: [], metadata: {} };
  private readonly rand = rng(42);
  readonly feeds: Float32Array[] = [];
  readonly values = new Map<string, tf.Tensor>();

  input(name: string, shape: number[]): tf.Tensor {
    this.graph.tensors.set(name, { name, shape, dtype: 'float32' });
    this.graph.inputs.push(name);
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => this.rand() * 4 - 2);
    this.feeds.push(data);
    const t = tf.tensor(data, shape);
    this.values.set(name, t);
    return t;
  }
  weights(name: string, shape: number[]): tf.Tensor {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => this.rand() - 0.5);
    return this.constant(name, shape, data);
  }
  constant(name: string, shape: number[], data: TensorData, dtype: Tensor['dtype'] = 'float32', quant?: Tensor['quant']): tf.Tensor {
    this.graph.tensors.set(name, { name, shape, dtype, data, ...(quant ? { quant } : {}) });
    const t = dtype === 'float32' ? tf.tensor(data as Float32Array, shape) : tf.tensor(Array.from(data as ArrayLike<number>), shape, 'int32');
    this.values.set(name, t);
    return t;
  }
  ints(name: string, values: number[]): void {
    this.constant(name, [values.length], Int32Array.from(values), 'int32');
  }
  op(type: string, inputs: string[], outShape: number[], attrs: Op['attrs'] = {}, extra: Partial<Op> = {}): string {
    const out = `${type.toLowerCase()}_${this.graph.ops.length}`;
    this.graph.tensors.set(out, { name: out, shape: outShape, dtype: 'float32' });
    this.graph.ops.push({ name: out, type, inputs, outputs: [out], attrs, ...extra });
    return out;
  }
  v(name: string): tf.Tensor {
    return this.values.get(name)!;
  }
}

async function check(g: G, out: string, reference: tf.Tensor): Promise<void> {
  g.graph.outputs = [out];
  const bytes = exportTflite(g.graph);
  const [[actual]] = await runModel(bytes, [g.feeds]);
  const expected = reference.dataSync();
  assert.deepEqual(g.graph.tensors.get(out)!.shape.reduce((a, b) => a * b, 1), expected.length, 'reference size');
  assert.equal(actual!.length, expected.length);
  let maxAbs = 0, maxErr = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]!));
    maxErr = Math.max(maxErr, Math.abs(expected[i]! - actual![i]!));
  }
  assert.ok(maxErr <= 1e-4 * maxAbs + 1e-5, `max |error| ${maxErr} vs max |out| ${maxAbs}`);
}

const relu6 = (x: tf.Tensor) => tf.clipByValue(x, 0, 6);
const ohwiToHwio = (w: tf.Tensor) => tf.transpose(w, [1, 2, 3, 0]) as tf.Tensor4D;

test('CONV_2D (stride 2, SAME, bias, fused RELU6) and dilated VALID conv without bias', async () => {
  const g = new G();
  const x = g.input('x', [1, 9, 9, 3]);
  const w = g.weights('w', [8, 3, 3, 3]);
  const b = g.weights('b', [8]);
  const y = g.op('CONV_2D', ['x', 'w', 'b'], [1, 5, 5, 8], { padding: 'SAME', strideW: 2, strideH: 2, fusedActivationFunction: 'RELU6' });
  const w2 = g.weights('w2', [4, 3, 3, 8]);
  const z = g.op('CONV_2D', [y, 'w2', ''], [1, 1, 1, 4], { padding: 'VALID', strideW: 1, strideH: 1, dilationWFactor: 2, dilationHFactor: 2 });
  const ry = relu6(tf.add(tf.conv2d(x as tf.Tensor4D, ohwiToHwio(w), 2, 'same'), b));
  await check(g, z, tf.conv2d(ry as tf.Tensor4D, ohwiToHwio(w2), 1, 'valid', 'NHWC', 2));
});

test('DEPTHWISE_CONV_2D (multiplier 2, RELU) ', async () => {
  const g = new G();
  const x = g.input('x', [1, 6, 6, 3]);
  const w = g.weights('w', [1, 3, 3, 6]);
  const b = g.weights('b', [6]);
  const y = g.op('DEPTHWISE_CONV_2D', ['x', 'w', 'b'], [1, 6, 6, 6], { padding: 'SAME', strideW: 1, strideH: 1, fusedActivationFunction: 'RELU' });
  const ref = tf.relu(tf.add(tf.depthwiseConv2d(x as tf.Tensor4D, tf.reshape(w, [3, 3, 3, 2]) as tf.Tensor4D, 1, 'same'), b));
  await check(g, y, ref);
});

test('TRANSPOSE_CONV (stride 2, SAME, bias)', async () => {
  const g = new G();
  const x = g.input('x', [1, 4, 4, 3]);
  g.ints('shape', [1, 8, 8, 5]);
  const w = g.weights('w', [5, 3, 3, 3]); // OHWI
  const b = g.weights('b', [5]);
  const y = g.op('TRANSPOSE_CONV', ['shape', 'w', 'x', 'b'], [1, 8, 8, 5], { padding: 'SAME', strideW: 2, strideH: 2 });
  const filter = tf.transpose(w, [1, 2, 0, 3]) as tf.Tensor4D; // [H,W,out,in]
  await check(g, y, tf.add(tf.conv2dTranspose(x as tf.Tensor4D, filter, [1, 8, 8, 5], 2, 'same'), b));
});

test('FULLY_CONNECTED with and without bias, TANH fused', async () => {
  const g = new G();
  const x = g.input('x', [2, 10]);
  const w = g.weights('w', [7, 10]);
  const b = g.weights('b', [7]);
  const y = g.op('FULLY_CONNECTED', ['x', 'w', 'b'], [2, 7], { fusedActivationFunction: 'TANH' });
  const w2 = g.weights('w2', [3, 7]);
  const z = g.op('FULLY_CONNECTED', [y, 'w2', ''], [2, 3]);
  const ry = tf.tanh(tf.add(tf.matMul(x, w, false, true), b));
  await check(g, z, tf.matMul(ry, w2, false, true));
});

test('ADD / SUB / MUL with broadcast constants, CONCATENATION, PAD, RESHAPE', async () => {
  const g = new G();
  const x = g.input('x', [1, 4, 4, 3]);
  const c1 = g.weights('c1', [3]);
  const c2 = g.weights('c2', [1, 4, 4, 3]);
  const c3 = g.weights('c3', [1, 1, 1, 3]);
  const a = g.op('ADD', ['x', 'c1'], [1, 4, 4, 3], { fusedActivationFunction: 'RELU' });
  const s = g.op('SUB', [a, 'c2'], [1, 4, 4, 3]);
  const m = g.op('MUL', [s, 'c3'], [1, 4, 4, 3]);
  const cat = g.op('CONCATENATION', [m, 'x'], [1, 4, 4, 6], { axis: 3 });
  g.constant('pads', [4, 2], Int32Array.from([0, 0, 1, 2, 2, 1, 0, 0]), 'int32');
  const p = g.op('PAD', [cat, 'pads'], [1, 7, 7, 6]);
  g.ints('newshape', [1, 49, 6]);
  const r = g.op('RESHAPE', [p, 'newshape'], [1, 49, 6]);
  const ra = tf.relu(tf.add(x, c1));
  const ref = tf.reshape(tf.pad(tf.concat([tf.mul(tf.sub(ra, c2), c3), x], 3), [[0, 0], [1, 2], [2, 1], [0, 0]]), [1, 49, 6]);
  await check(g, r, ref);
});

test('RESHAPE from the newShape attribute alone (dynamic batch written as shape_signature -1)', async () => {
  const g = new G();
  const x = g.input('x', [1, 2, 3]);
  g.graph.tensors.get('x')!.shape = [-1, 2, 3];
  const r = g.op('RESHAPE', ['x'], [-1, 6], { newShape: [-1, 6] });
  const model = graphToTflite({ ...g.graph, outputs: [r] });
  assert.deepEqual(model.subgraphs[0]!.tensors[0]!.shapeSignature, [-1, 2, 3]);
  assert.deepEqual(model.subgraphs[0]!.tensors[0]!.shape, [1, 2, 3]);
  g.graph.tensors.get(r)!.shape = [1, 6];
  await check(g, r, tf.reshape(x, [1, 6]));
});

test('MEAN and REDUCE_MAX over H,W; MAX_POOL_2D and AVERAGE_POOL_2D', async () => {
  const g = new G();
  const x = g.input('x', [1, 6, 6, 4]);
  const mp = g.op('MAX_POOL_2D', ['x'], [1, 3, 3, 4], { padding: 'VALID', strideW: 2, strideH: 2, filterWidth: 2, filterHeight: 2 });
  const ap = g.op('AVERAGE_POOL_2D', [mp], [1, 3, 3, 4], { padding: 'SAME', strideW: 1, strideH: 1, filterWidth: 3, filterHeight: 3 });
  g.ints('axes', [1, 2]);
  const mean = g.op('MEAN', [ap, 'axes'], [1, 1, 1, 4], { keepDims: true });
  const mx = g.op('REDUCE_MAX', [ap, 'axes'], [1, 4], { keepDims: false });
  const out = g.op('ADD', [mean, mx], [1, 1, 1, 4]);
  const rap = tf.avgPool(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), 3, 1, 'same');
  await check(g, out, tf.add(tf.mean(rap, [1, 2], true), tf.max(rap, [1, 2], false)));
});

test('activations: SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, PRELU, ELU, HARD_SWISH', async () => {
  const cases: [string, Op['attrs'], (x: tf.Tensor, g: G) => tf.Tensor, string[]?][] = [
    ['SOFTMAX', {}, (x) => tf.softmax(x)],
    ['LOGISTIC', {}, (x) => tf.sigmoid(x)],
    ['TANH', {}, (x) => tf.tanh(x)],
    ['RELU', {}, (x) => tf.relu(x)],
    ['RELU6', {}, (x) => tf.mul(relu6(tf.mul(x, 4)), 1)],
    ['LEAKY_RELU', { alpha: 0.2 }, (x) => tf.leakyRelu(x, 0.2)],
    ['PRELU', {}, (x, g) => tf.prelu(x, g.v('alpha')), ['alpha']],
    ['ELU', {}, (x) => tf.elu(x)],
    ['HARD_SWISH', {}, (x) => tf.div(tf.mul(x, relu6(tf.add(x, 3))), 6)],
  ];
  for (const [type, attrs, ref, extra] of cases) {
    const g = new G();
    const x = g.input('x', [1, 3, 3, 5]);
    if (extra) g.weights('alpha', [1, 1, 5]);
    let input = 'x', refIn = x;
    if (type === 'RELU6') {
      // Scale up first so the 6 clamp is exercised.
      g.constant('four', [1], Float32Array.of(4));
      input = g.op('MUL', ['x', 'four'], [1, 3, 3, 5]);
      refIn = x;
    }
    const y = g.op(type, [input, ...(extra ?? [])], [1, 3, 3, 5], attrs);
    await check(g, y, ref(refIn, g));
  }
});

test('RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (half-pixel centers)', async () => {
  const g = new G();
  const x = g.input('x', [1, 3, 4, 2]);
  g.ints('size', [6, 8]);
  const nn = g.op('RESIZE_NEAREST_NEIGHBOR', ['x', 'size'], [1, 6, 8, 2], { alignCorners: false, halfPixelCenters: false });
  const bl = g.op('RESIZE_BILINEAR', ['x', 'size'], [1, 6, 8, 2], { alignCorners: false, halfPixelCenters: true });
  const out = g.op('ADD', [nn, bl], [1, 6, 8, 2]);
  const ref = tf.add(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6, 8]), tf.image.resizeBilinear(x as tf.Tensor4D, [6, 8], false, true));
  await check(g, out, ref);
});

test('QUANTIZE → DEQUANTIZE (int8 activations) and quantized constants: per-channel int8, fp16', async () => {
  const g = new G();
  const x = g.input('x', [1, 8]);
  g.graph.tensors.set('q', { name: 'q', shape: [1, 8], dtype: 'int8', quant: { scale: [0.02], zeroPoint: [3] } });
  g.graph.ops.push({ name: 'quant', type: 'QUANTIZE', inputs: ['x'], outputs: ['q'], attrs: {} });
  const dq = g.op('DEQUANTIZE', ['q'], [1, 8]);
  // Per-channel int8 weights [4, 8] (axis 0) dequantized, then FC; fp16 bias dequantized.
  const scales = [0.01, 0.02, 0.005, 0.03];
  const wq = Int8Array.from({ length: 32 }, (_, i) => ((i * 37) % 255) - 127);
  g.constant('wq', [4, 8], wq, 'int8', { scale: scales, zeroPoint: [0, 0, 0, 0], axis: 0 });
  const wd = g.op('DEQUANTIZE', ['wq'], [4, 8]);
  const biasF = Float32Array.of(0.5, -0.25, 1, 2);
  const half = Uint16Array.of(0x3800, 0xb400, 0x3c00, 0x4000); // 0.5, -0.25, 1, 2 as IEEE half
  g.graph.tensors.set('b16', { name: 'b16', shape: [4], dtype: 'float16', data: half });
  const bd = g.op('DEQUANTIZE', ['b16'], [4]);
  const y = g.op('FULLY_CONNECTED', [dq, wd, bd], [1, 4]);
  const qx = tf.clipByValue(tf.add(tf.round(tf.div(x, 0.02)), 3), -128, 127);
  const dqx = tf.mul(tf.sub(qx, 3), 0.02);
  const w = tf.mul(tf.tensor(Array.from(wq), [4, 8]), tf.tensor(scales, [4, 1]));
  await check(g, y, tf.add(tf.matMul(dqx, w, false, true), tf.tensor(biasF)));
  const model = readTflite(exportTflite(g.graph));
  const wt = model.subgraphs[0]!.tensors.find((t) => t.name === 'wq')!;
  assert.deepEqual([wt.type, wt.quantization?.quantizedDimension, wt.quantization?.scale.length], ['INT8', 0, 4]);
  const versions = Object.fromEntries(model.operatorCodes.map((c) => [`${c.builtin}`, c.version]));
  assert.equal(versions.QUANTIZE, 2);
  assert.ok(model.operatorCodes.some((c) => c.builtin === 'DEQUANTIZE' && c.version === 5)); // per-channel
  assert.ok(model.operatorCodes.some((c) => c.builtin === 'DEQUANTIZE' && c.version === 3)); // fp16
  assert.equal(metadataString(model, 'min_runtime_version'), '2.7.0');
});

test('writer rules: TFL3, version 3, empty buffer 0, both opcode fields, signature, names, min_runtime_version', () => {
  const g = new G();
  g.input('image', [1, 4, 4, 3]);
  g.weights('kernel', [2, 1, 1, 3]);
  const y = g.op('CONV_2D', ['image', 'kernel'], [1, 4, 4, 2], { padding: 'SAME', strideW: 1, strideH: 1 });
  const s = g.op('HARD_SWISH', [y], [1, 4, 4, 2]);
  g.graph.outputs = [s];
  const bytes = exportTflite(g.graph, { description: 'unit test' });
  assert.equal(Buffer.from(bytes.subarray(4, 8)).toString('latin1'), 'TFL3');
  const m = readTflite(bytes);
  assert.equal(m.version, 3);
  assert.equal(m.description, 'unit test');
  assert.equal(m.buffers[0]!.length, 0);
  assert.deepEqual(m.signatureDefs, [{ signatureKey: 'serving_default', subgraphIndex: 0, inputs: [{ name: 'image', tensorIndex: 0 }], outputs: [{ name: s, tensorIndex: m.subgraphs[0]!.outputs[0]! }] }]);
  assert.ok(m.subgraphs[0]!.tensors.some((t) => t.name === 'kernel'));
  assert.equal(metadataString(m, 'min_runtime_version'), '1.15.0'); // HARD_SWISH v1
  assert.equal(m.buffers[m.metadata[0]!.buffer]!.length, 16);
});

test('export refuses pseudo-ops and malformed ops with messages naming the op', () => {
  const g = new G();
  g.input('x', [1, 4]);
  g.op('DROPOUT', ['x'], [1, 4]);
  g.graph.outputs = ['dropout_0'];
  assert.throws(() => exportTflite(g.graph), /"dropout_0" \(DROPOUT\): pseudo-op/);
  const h = new G();
  h.input('x', [1, 4]);
  h.op('FULLY_CONNECTED', ['x'], [1, 4]);
  h.graph.outputs = ['fully_connected_0'];
  assert.throws(() => exportTflite(h.graph), /"fully_connected_0" \(FULLY_CONNECTED\): expects 2–3 inputs, has 1/);
  const k = new G();
  k.input('x', [1, 4]);
  k.op('NOT_AN_OP', ['x'], [1, 4]);
  k.graph.outputs = ['not_an_op_0'];
  assert.throws(() => exportTflite(k.graph), /not a TFLite builtin op/);
  const c = new G();
  c.input('x', [1, 4]);
  c.op('CONV_2D', ['x', 'x'], [1, 4], { padding: 'SIDEWAYS' });
  c.graph.outputs = ['conv_2d_0'];
  assert.throws(() => exportTflite(c.graph), /"conv_2d_0" \(CONV_2D\): attribute padding = "SIDEWAYS" is not one of SAME, VALID/);
});

test('CUSTOM ops pass through with code and options bytes', () => {
  const g = new G();
  g.input('x', [1, 4]);
  const opts = Uint8Array.of(1, 2, 3, 250);
  g.op('CUSTOM', ['x'], [1, 4], {}, { customCode: 'my-op', customOptions: opts });
  g.graph.outputs = ['custom_0'];
  const m = readTflite(exportTflite(g.graph));
  assert.equal(m.operatorCodes[0]!.customCode, 'my-op');
  assert.deepEqual(Array.from(m.subgraphs[0]!.operators[0]!.customOptions!), [1, 2, 3, 250]);
});
