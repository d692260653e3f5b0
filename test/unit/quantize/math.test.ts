import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activationParams, representableRange, quantizeAffine, fakeQuantize, quantizeWeightsPerChannel,
  quantizeWeightsPerTensor, dequantizeWeights, quantizeBias, quantizeDynamicRange, roundHalfAway,
} from '../../../main/optimize/quantize/math.ts';
import { toFloat16, fromFloat16, float32ToFloat16Bits, float16BitsToFloat32 } from '../../../main/model/float16.ts';

test('activation params follow GetAsymmetricQuantizationParams and keep 0 exact', () => {
  const p = activationParams(-1, 3);
  assert.equal(p.scale, 4 / 255);
  assert.equal(p.zeroPoint, -64); // -128 + 63.75 rounded
  const [lo, hi] = representableRange(p);
  assert.ok(lo <= -1 + p.scale && hi >= 3 - p.scale, `range [${lo}, ${hi}]`);
  assert.equal(fakeQuantize([0], p)[0], 0);
  // One-sided ranges are widened to include 0.
  assert.deepEqual([activationParams(0.5, 2).zeroPoint, activationParams(0.5, 2).min], [-128, 0]);
  assert.equal(activationParams(-2, -1).zeroPoint, 127);
  const u = activationParams(0, 1, 'uint8');
  assert.deepEqual([u.scale, u.zeroPoint], [1 / 255, 0]);
  assert.equal(activationParams(0, 0).scale, 1);
  assert.throws(() => activationParams(2, 1), /Invalid activation range \[2, 1\]/);
  assert.throws(() => activationParams(NaN, 1), /Invalid activation range/);
});

test('affine quantization clamps to the int8 range and rounds half away from zero', () => {
  assert.equal(roundHalfAway(-2.5), -3);
  assert.equal(roundHalfAway(2.5), 3);
  const q = quantizeAffine([0, 1000, -1000, 0.5], { scale: 1, zeroPoint: 0 });
  assert.deepEqual(Array.from(q), [0, 127, -128, 1]);
  const u = quantizeAffine([-1, 0, 300], { scale: 1, zeroPoint: 0 }, 'uint8');
  assert.deepEqual(Array.from(u), [0, 0, 255]);
});

test('per-channel weights: one symmetric scale per output channel, narrow range', () => {
  // CONV_2D [O=2,H=1,W=1,I=3]: channel 0 spans ±2, channel 1 spans ±0.01.
  const w = Float32Array.from([2, -1, 0.5, 0.01, -0.005, 0.0025]);
  const q = quantizeWeightsPerChannel(w, [2, 1, 1, 3], 0);
  assert.deepEqual(q.scales, [2 / 127, Math.fround(0.01) / 127]);
  assert.deepEqual(q.zeroPoints, [0, 0]);
  assert.deepEqual(Array.from(q.data), [127, -64, 32, 127, -64, 32]); // -63.5 rounds away from zero
  assert.ok(Math.max(...Array.from(q.data, Math.abs)) <= 127);
  const back = dequantizeWeights(q, [2, 1, 1, 3]);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i] - w[i]) <= q.scales[i < 3 ? 0 : 1] / 2 + 1e-9);
  // Per-tensor would crush channel 1 to zeros: that is why conv weights are per-channel.
  const t = quantizeWeightsPerTensor(w);
  assert.deepEqual(Array.from(t.data.slice(3)), [1, 0, 0]);
});

test('depthwise weights are per-channel along dim 3', () => {
  // [1,H=2,W=1,C=2]: element order h0c0, h0c1, h1c0, h1c1.
  const w = Float32Array.from([1, 10, -0.5, -5]);
  const q = quantizeWeightsPerChannel(w, [1, 2, 1, 2], 3);
  assert.deepEqual(q.scales, [1 / 127, 10 / 127]);
  assert.deepEqual(Array.from(q.data), [127, 127, -64, -64]);
  assert.equal(q.axis, 3);
  assert.throws(() => quantizeWeightsPerChannel(w, [1, 2, 1, 3], 3), /has 4 elements but shape \[1,2,1,3\] needs 6/);
});

test('all-zero channel gets scale 1, not 0', () => {
  const q = quantizeWeightsPerChannel(new Float32Array(6), [2, 3], 0);
  assert.deepEqual(q.scales, [1, 1]);
});

test('bias is int32 with scale s_in × s_w[c]; overflow is clamped and reported', () => {
  const b = quantizeBias([0.5, -0.25], 0.02, [0.01, 0.001]);
  assert.deepEqual(b.scales.map((s) => +s.toPrecision(12)), [0.0002, 0.00002]);
  assert.deepEqual(Array.from(b.data), [2500, -12500]);
  assert.deepEqual(b.clamped, []);
  const big = quantizeBias([1e6], 1e-6, [1e-6]);
  assert.deepEqual(big.clamped, [0]);
  assert.equal(big.data[0], 2147483647);
  assert.throws(() => quantizeBias([1, 2, 3], 0.1, [1, 2]), /Bias has 3 channels but there are 2 weight scales/);
});

test('dynamic range leaves tensors under 1024 elements in float', () => {
  assert.equal(quantizeDynamicRange(new Float32Array(1023).fill(1), [1023], undefined), null);
  const q = quantizeDynamicRange(new Float32Array(1024).fill(1), [4, 256], 0);
  assert.ok(q);
  assert.equal(q.scales.length, 4);
});

test('float16: known values, round-to-nearest-even, subnormals, overflow', () => {
  const cases: [number, number][] = [
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [-0, 0x8000], [2 ** -24, 0x0001], [2 ** -25, 0x0000],
    [3 * 2 ** -26, 0x0001], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    [0.1, 0x2e66], [2 ** -15 + 2 ** -25, 0x0200],
  ];
  for (const [v, bits] of cases) assert.equal(float32ToFloat16Bits(v), bits, `${v}`);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
});

test('float16: every finite half value round-trips exactly', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = toFloat16(fromFloat16(all));
  for (let i = 0; i < 65536; i++) {
    const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    if (!isNaN) assert.equal(back[i], i, `half 0x${i.toString(16)}`);
  }
});
