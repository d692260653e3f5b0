import { test } from 'node:test';
import assert from 'node:assert/strict';
import { equalizeDepthwiseSeparable, equalizePair } from '../../../main/optimize/quantize/equalization.ts';
import { correctBias, ChannelMeans, expectedOutputShift } from '../../../main/optimize/quantize/bias-correction.ts';
import { quantizeWeightsPerTensor, dequantizeWeights, fakeQuantize } from '../../../main/optimize/quantize/math.ts';
import { sqnrDb, rmseOverScale, cosineSimilarity, RMSE_OVER_SCALE_IDEAL } from '../../../main/optimize/quantize/metrics.ts';
import { mulberry32 } from '../../helpers/random.ts';

/** Seeded values in [-0.5, 0.5). */
function rng(seed: number) {
  const r = mulberry32(seed);
  return () => r() - 0.5;
}

const [H, W, C, K, O] = [6, 6, 5, 3, 4];

/** Reference float forward: 3×3 depthwise (VALID) + bias → activation → 1×1 conv + bias. */
function forward(x: Float32Array, dw: Float32Array, db: Float32Array, act: (v: number) => number, pw: Float32Array, pb: Float32Array): Float32Array {
  const oh = H - K + 1;
  const ow = W - K + 1;
  const out = new Float32Array(oh * ow * O);
  const y = new Float64Array(C);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let c = 0; c < C; c++) {
        let s = db[c];
        for (let dy = 0; dy < K; dy++) for (let dx = 0; dx < K; dx++) s += x[((oy + dy) * W + ox + dx) * C + c] * dw[(dy * K + dx) * C + c];
        y[c] = act(s);
      }
      for (let o = 0; o < O; o++) {
        let s = pb[o];
        for (let c = 0; c < C; c++) s += y[c] * pw[o * C + c];
        out[(oy * ow + ox) * O + o] = s;
      }
    }
  }
  return out;
}

/** A MobileNet-like pair whose depthwise channels span 4 orders of magnitude (the per-tensor failure case). */
function pair(seed: number) {
  const r = rng(seed);
  const spread = (c: number) => 10 ** (c - 2);
  const dw = Float32Array.from({ length: K * K * C }, (_, i) => r() * spread(i % C));
  const db = Float32Array.from({ length: C }, (_, c) => r() * spread(c));
  const pw = Float32Array.from({ length: O * C }, () => r());
  const pb = Float32Array.from({ length: O }, () => r());
  const x = Float32Array.from({ length: H * W * C }, () => r() * 4);
  return { dw, db, pw, pb, x };
}

const relu = (v: number) => Math.max(0, v);
const relu6 = (v: number) => Math.min(6, Math.max(0, v));

test('CLE keeps a depthwise → ReLU → 1×1 pair numerically identical in float and balances channel ranges', () => {
  const { dw, db, pw, pb, x } = pair(1);
  const before = forward(x, dw, db, relu, pw, pb);
  const eq = equalizeDepthwiseSeparable({ depthwise: dw, depthwiseShape: [1, K, K, C], depthwiseBias: db, conv: pw, convShape: [O, 1, 1, C], activation: 'RELU' });
  assert.ok(eq.equalized);
  const after = forward(x, eq.w1, eq.b1!, relu, eq.w2, pb);
  let maxRel = 0;
  for (let i = 0; i < before.length; i++) maxRel = Math.max(maxRel, Math.abs(after[i] - before[i]) / (Math.abs(before[i]) + 1e-3));
  assert.ok(maxRel < 1e-4, `max relative change ${maxRel}`);
  assert.ok(before.some((v) => v !== before[0]), 'non-trivial output');
  // After equalization both layers have the same per-channel range √(r1·r2).
  const range = (w: Float32Array, stride: number, c: number, count: number) =>
    Math.max(...Array.from({ length: count }, (_, k) => Math.abs(w[k * stride + c])));
  for (let c = 0; c < C; c++) {
    const r1 = range(eq.w1, C, c, K * K);
    const r2 = range(eq.w2, C, c, O);
    assert.ok(Math.abs(r1 - r2) / r2 < 1e-5, `channel ${c}: ${r1} vs ${r2}`);
  }
});

test('CLE makes per-tensor weight quantization of the pair far more accurate', () => {
  const { dw, db, pw, pb, x } = pair(2);
  const ref = forward(x, dw, db, relu, pw, pb);
  const pt = (w: Float32Array) => dequantizeWeights(quantizeWeightsPerTensor(w), [w.length]);
  const plain = forward(x, pt(dw), db, relu, pt(pw), pb);
  const eq = equalizeDepthwiseSeparable({ depthwise: dw, depthwiseShape: [1, K, K, C], depthwiseBias: db, conv: pw, convShape: [O, 1, 1, C], activation: 'RELU' });
  assert.ok(eq.equalized);
  const balanced = forward(x, pt(eq.w1), eq.b1!, relu, pt(eq.w2), pb);
  const [sPlain, sEq] = [sqnrDb(ref, plain), sqnrDb(ref, balanced)];
  assert.ok(sEq > sPlain + 10, `SQNR per-tensor ${sPlain.toFixed(1)} dB → with CLE ${sEq.toFixed(1)} dB`);
});

test('ReLU6 is refused unless the caller replaces it by ReLU; then ReLU6 would have changed the function', () => {
  const { dw, db, pw, pb, x } = pair(3);
  const args = { depthwise: dw, depthwiseShape: [1, K, K, C], depthwiseBias: db, conv: pw, convShape: [O, 1, 1, C] };
  const refused = equalizeDepthwiseSeparable({ ...args, activation: 'RELU6' });
  assert.equal(refused.equalized, false);
  assert.match((refused as { reason: string }).reason, /RELU6 .* not positively homogeneous/);
  assert.equal(equalizeDepthwiseSeparable({ ...args, activation: 'TANH' }).equalized, false);
  const eq = equalizeDepthwiseSeparable({ ...args, activation: 'RELU6', relu6: 'as-relu' });
  assert.ok(eq.equalized && eq.replaceRelu6WithRelu);
  // Keeping ReLU6 after scaling is NOT equivalent (the large channels exceed 6): that is why we refuse by default.
  const before = forward(x, dw, db, relu6, pw, pb);
  const keptRelu6 = forward(x, eq.w1, eq.b1!, relu6, eq.w2, pb);
  assert.ok(sqnrDb(before, keptRelu6) < 40, 'ReLU6 across scaled channels changes outputs');
  assert.throws(() => equalizePair({ w1: dw, w1Shape: [1, K, K, C], w1OutAxis: 3, w2: pw, w2Shape: [O, 1, 1, C + 1], w2InAxis: 3, activation: 'RELU' }), /1 has 5 output channels but layer 2 takes 6/);
});

test('bias correction removes the mean output shift of quantized weights (empirical = analytic)', () => {
  const r = rng(4);
  const [I, Ov, N] = [16, 4, 2000];
  const w = Float32Array.from({ length: Ov * I }, () => r());
  w[3] = 8; // one outlier makes the per-tensor grid coarse → large, biased rounding errors
  const b = Float32Array.from({ length: Ov }, () => r());
  const wq = dequantizeWeights(quantizeWeightsPerTensor(w), [Ov, I]);
  const xs = Float32Array.from({ length: N * I }, (_, i) => 1 + (i % I) / 4 + r()); // non-zero input means
  const fc = (weights: Float32Array, bias: ArrayLike<number>) => {
    const y = new Float32Array(N * Ov);
    for (let n = 0; n < N; n++) for (let o = 0; o < Ov; o++) {
      let s = bias[o];
      for (let i = 0; i < I; i++) s += weights[o * I + i] * xs[n * I + i];
      y[n * Ov + o] = s;
    }
    return y;
  };
  const means = (y: Float32Array) => { const m = new ChannelMeans(Ov); m.add(y); return m.means(); };
  const [mf, mq] = [means(fc(w, b)), means(fc(wq, b))];
  const before = Math.max(...Array.from(mf, (v, o) => Math.abs(mq[o] - v)));
  const corrected = correctBias(b, mf, mq);
  const mc = means(fc(wq, corrected));
  const after = Math.max(...Array.from(mf, (v, o) => Math.abs(mc[o] - v)));
  assert.ok(before > 0.01 && after < 1e-4, `mean shift ${before} → ${after}`);
  const inMean = new ChannelMeans(I);
  inMean.add(xs);
  const analytic = expectedOutputShift('FULLY_CONNECTED', w, wq, [Ov, I], inMean.means());
  for (let o = 0; o < Ov; o++) assert.ok(Math.abs(analytic[o] - (mq[o] - mf[o])) < 1e-4, `channel ${o}`);
  assert.throws(() => correctBias(b, mf, [1, 2]), /4 float means but 2 quantized means/);
});

test('metrics: SQNR, RMSE/scale of pure rounding noise ≈ 1/√12, cosine', () => {
  const r = rng(5);
  const x = Float32Array.from({ length: 100_000 }, () => r() * 2);
  const p = { scale: 1 / 64, zeroPoint: 0 };
  const q = fakeQuantize(x, p);
  const ros = rmseOverScale(x, q, p.scale);
  assert.ok(Math.abs(ros - RMSE_OVER_SCALE_IDEAL) < 0.01, `${ros}`);
  // Uniform signal on [-1,1] (power 1/3) with step 1/64: SQNR = 10·log10((1/3)/(s²/12)) ≈ 42.1 dB.
  assert.ok(Math.abs(sqnrDb(x, q) - 10 * Math.log10((1 / 3) / (p.scale ** 2 / 12))) < 0.2);
  assert.equal(sqnrDb([1, 2], [1, 2]), Infinity);
  assert.ok(Math.abs(cosineSimilarity([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  assert.throws(() => sqnrDb([1], [1, 2]), /float has 1 values but quantized has 2/);
});
