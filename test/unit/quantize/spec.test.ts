import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Tensor } from '../../../main/model/ir.ts';
import { checkInt8Spec, ruleFor, dynamicRangeWeight } from '../../../main/optimize/quantize/spec.ts';
import { activationParams, quantizeWeightsPerChannel, quantizeBias } from '../../../main/optimize/quantize/math.ts';

/** input → CONV_2D → RESHAPE → FULLY_CONNECTED → SOFTMAX, quantized with the math module the way the quantizer will. */
function quantizedGraph(): Graph {
  const act = (name: string, shape: number[], min: number, max: number): Tensor => {
    const p = activationParams(min, max);
    return { name, shape, dtype: 'int8', quant: { scale: [p.scale], zeroPoint: [p.zeroPoint] } };
  };
  const weight = (name: string, shape: number[], axis: number): Tensor => {
    const w = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1));
    const q = quantizeWeightsPerChannel(w, shape, axis);
    return { name, shape, dtype: 'int8', data: q.data, quant: { scale: q.scales, zeroPoint: q.zeroPoints, axis } };
  };
  const bias = (name: string, n: number, sIn: number, w: Tensor): Tensor => {
    const b = quantizeBias(new Float32Array(n).fill(0.1), sIn, w.quant!.scale);
    return { name, shape: [n], dtype: 'int32', data: b.data, quant: { scale: b.scales, zeroPoint: b.zeroPoints } };
  };
  const x = act('x', [1, 4, 4, 1], 0, 1);
  const cw = weight('conv/w', [2, 3, 3, 1], 0);
  const cb = bias('conv/b', 2, x.quant!.scale[0], cw);
  const c = act('conv', [1, 2, 2, 2], 0, 6);
  const r: Tensor = { ...c, name: 'flat', shape: [1, 8], quant: structuredClone(c.quant) };
  const shape: Tensor = { name: 'shape', shape: [2], dtype: 'int32', data: Int32Array.from([1, 8]) };
  const fw = weight('fc/w', [3, 8], 0);
  const fb = bias('fc/b', 3, r.quant!.scale[0], fw);
  const logits = act('logits', [1, 3], -5, 5);
  const prob: Tensor = { name: 'prob', shape: [1, 3], dtype: 'int8', quant: { scale: [1 / 256], zeroPoint: [-128] } };
  const tensors = new Map([x, cw, cb, c, r, shape, fw, fb, logits, prob].map((t) => [t.name, t]));
  return {
    name: 'tiny', inputs: ['x'], outputs: ['prob'], tensors, metadata: {},
    ops: [
      { name: 'conv', type: 'CONV_2D', inputs: ['x', 'conv/w', 'conv/b'], outputs: ['conv'], attrs: {} },
      { name: 'flat', type: 'RESHAPE', inputs: ['conv', 'shape'], outputs: ['flat'], attrs: {} },
      { name: 'fc', type: 'FULLY_CONNECTED', inputs: ['flat', 'fc/w', 'fc/b'], outputs: ['logits'], attrs: {} },
      { name: 'softmax', type: 'SOFTMAX', inputs: ['logits'], outputs: ['prob'], attrs: {} },
    ],
  };
}

test('a graph quantized with the math module passes the spec check', () => {
  assert.deepEqual(checkInt8Spec(quantizedGraph()), []);
});

test('each spec rule is enforced and names the op and tensor', () => {
  const cases: [string, (g: Graph) => void, RegExp][] = [
    ['softmax fixed output', (g) => { g.tensors.get('prob')!.quant!.scale = [1 / 255]; }, /SOFTMAX output must have scale 0.00390625 zero point -128/],
    ['reshape same params', (g) => { g.tensors.get('flat')!.quant!.zeroPoint = [3]; }, /RESHAPE output params .* differ from input "conv"/],
    ['weight zero point', (g) => { g.tensors.get('conv/w')!.quant!.zeroPoint = [0, 1]; }, /zero points must all be 0/],
    ['depthwise axis', (g) => { g.tensors.get('conv/w')!.quant!.axis = 3; }, /quantized dimension 0, uses 3/],
    ['weight -128', (g) => { (g.tensors.get('fc/w')!.data as Int8Array)[5] = -128; }, /-128 at index 5 outside the narrow range/],
    ['bias scale', (g) => { g.tensors.get('fc/b')!.quant!.scale[1] *= 2; }, /bias scale\[1\]/],
    ['float activation', (g) => { g.tensors.get('x')!.dtype = 'float32'; }, /activation input must be int8/],
    ['unknown op', (g) => { g.ops[1].type = 'CUMSUM'; }, /no int8 rule for op type CUMSUM/],
  ];
  for (const [label, mutate, message] of cases) {
    const g = quantizedGraph();
    mutate(g);
    const v = checkInt8Spec(g);
    assert.equal(v.length >= 1, true, label);
    assert.match(v.map((x) => `${x.op} ${x.tensor} ${x.message}`).join('\n'), message, label);
  }
});

test('rule table: fixed outputs, per-channel axes, same-scale ops, hybrid weights', () => {
  assert.deepEqual(ruleFor('LOGISTIC')!.output, { kind: 'fixed', int8: { scale: 1 / 256, zeroPoint: -128 }, int16: { scale: 1 / 32768, zeroPoint: 0 } });
  assert.deepEqual((ruleFor('TANH')!.output as { int8: unknown }).int8, { scale: 1 / 128, zeroPoint: 0 });
  assert.deepEqual((ruleFor('LOG_SOFTMAX')!.output as { int8: unknown }).int8, { scale: 16 / 256, zeroPoint: 127 });
  assert.equal(ruleFor('DEPTHWISE_CONV_2D')!.weight!.axis, 3);
  for (const op of ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'CONCATENATION', 'PAD', 'RESIZE_BILINEAR', 'GATHER']) {
    assert.equal(ruleFor(op)!.output.kind, 'same-as-input', op);
  }
  assert.equal(ruleFor('CONCATENATION')!.inputsShareOutputParams, true);
  assert.deepEqual(dynamicRangeWeight('DEPTHWISE_CONV_2D'), { input: 1, axis: 3 });
  assert.deepEqual(dynamicRangeWeight('FULLY_CONNECTED'), { input: 1, axis: undefined });
  assert.equal(dynamicRangeWeight('ADD'), undefined);
});
