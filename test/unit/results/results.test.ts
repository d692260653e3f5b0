// Results services on plain points and on a real temporary history: Pareto fronts, the recommended pick and
// its sentence (never a variant that loses too much accuracy), job-scoped summaries, and comparison rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHistory, type History } from '../../../main/history/index.ts';
import { paretoFront, recommend, resultsSummary, compareVariants, flattenRecipe, variantIdsOfJob } from '../../../main/results/index.ts';
import type { VariantPoint } from '../../../preload/contract.ts';

const CORAL = new URL('../../../../shared/fixtures/coral/', import.meta.url);

function point(p: Partial<VariantPoint> & { id: string }): VariantPoint {
  return {
    name: p.id, parentId: null, technique: null, status: 'ready', createdAt: '2026-01-01T00:00:00Z', sizeBytes: null, gzipBytes: null,
    accuracy: null, agreement: null, cpuP50Ms: null, edgetpuP50Ms: null, edgetpuOps: null, isBaseline: false, ...p,
  };
}

const float = point({ id: 'float32', technique: 'convert', isBaseline: true, sizeBytes: 3_900_000, accuracy: 0.982, cpuP50Ms: 4.2 });
const fp16 = point({ id: 'fp16', technique: 'float16', sizeBytes: 1_950_000, accuracy: 0.982, cpuP50Ms: 4.4 });
const int8 = point({ id: 'int8', technique: 'int8', sizeBytes: 1_000_000, accuracy: 0.981, cpuP50Ms: 2.0 });
const perTensor = point({ id: 'int8-per-tensor', technique: 'int8', sizeBytes: 990_000, accuracy: 0.95, cpuP50Ms: 1.9 });

test('Pareto front: smallest first, dominated and duplicate points left out', () => {
  const pts = [float, fp16, int8, perTensor, point({ id: 'worse', sizeBytes: 2_000_000, accuracy: 0.97 }), point({ id: 'no-size', accuracy: 0.99 })];
  assert.deepEqual(paretoFront(pts, (p) => p.sizeBytes, 'accuracy'), ['int8-per-tensor', 'int8', 'fp16']);
  assert.deepEqual(paretoFront(pts, (p) => p.cpuP50Ms, 'accuracy'), ['int8-per-tensor', 'int8', 'float32']);
});

test('the pick never loses more than the limit when a better-accuracy variant exists, and says why', () => {
  const r = recommend([float, fp16, int8, perTensor], { goal: 'size' });
  assert.equal(r.variantId, 'int8');
  assert.equal(r.reason, 'int8 is 3.9× smaller and 2.1× faster than the original and loses 0.1 points of accuracy.');
  assert.deepEqual(r.rejected.map((x) => x.variantId), ['int8-per-tensor']);
  assert.match(r.rejected[0]!.why, /loses 3\.2 points of accuracy \(the limit is 1 point\)/);

  // A looser limit lets the smaller one through.
  assert.equal(recommend([float, fp16, int8, perTensor], { goal: 'size', maxAccuracyDrop: 0.05 }).variantId, 'int8-per-tensor');
  // Speed goal: fastest within the limit.
  assert.equal(recommend([float, fp16, int8, perTensor], { goal: 'cpu-speed' }).variantId, 'int8');
});

test('the original is recommended when nothing else qualifies; goals without data explain what to do', () => {
  const bad = point({ id: 'bad', sizeBytes: 1_000, accuracy: 0.5, cpuP50Ms: 1 });
  const r = recommend([float, bad], { goal: 'size' });
  assert.equal(r.variantId, 'float32');
  assert.match(r.reason, /^float32 \(the original\) is the best choice: no other variant is smaller while staying within 1 point of its accuracy\.$/);

  const tpu = recommend([float, int8], { goal: 'edgetpu' });
  assert.equal(tpu.variantId, null);
  assert.match(tpu.reason, /No variant was made or compiled for the Edge TPU/);

  const noBench = recommend([point({ id: 'a', sizeBytes: 1 }), point({ id: 'b', sizeBytes: 2 })], { goal: 'cpu-speed' });
  assert.equal(noBench.variantId, null);
  assert.match(noBench.reason, /No variant has a CPU benchmark yet/);
});

test('Edge TPU goal prefers the most ops on the TPU, then measured speed', () => {
  const partial = point({ id: 'partial', sizeBytes: 900_000, accuracy: 0.981, edgetpuOps: { mapped: 10, total: 14 }, edgetpuP50Ms: 1.1 });
  const full = point({ id: 'full', sizeBytes: 1_100_000, accuracy: 0.98, edgetpuOps: { mapped: 14, total: 14 }, edgetpuP50Ms: 2.4 });
  const r = recommend([float, partial, full], { goal: 'edgetpu' });
  assert.equal(r.variantId, 'full');
  assert.match(r.reason, /runs 14 of 14 ops on the Edge TPU, takes 2\.4 ms per inference there and loses 0\.2 points of accuracy\.$/);
});

test('custom goal: most accurate within the budget; agreement ranks when there are no labels', () => {
  assert.equal(recommend([float, fp16, int8, perTensor], { goal: 'custom', custom: { maxSizeBytes: 2_000_000 } }).variantId, 'fp16');
  assert.equal(recommend([float, fp16, int8, perTensor], { goal: 'custom', custom: { maxCpuLatencyMs: 2.5 } }).variantId, 'int8');

  const base = point({ id: 'orig', isBaseline: true, sizeBytes: 100, agreement: 1 });
  const a = point({ id: 'a', sizeBytes: 30, agreement: 0.995 });
  const b = point({ id: 'b', sizeBytes: 20, agreement: 0.9 });
  const r = recommend([base, a, b], { goal: 'size' });
  assert.equal(r.variantId, 'a');
  assert.match(r.reason, /agrees with the original on 99\.5% of samples/);
});

test('variantIdsOfJob reads the result shapes jobs report', () => {
  assert.deepEqual(variantIdsOfJob({ variantIds: ['a', 'b'] }), ['a', 'b']);
  assert.deepEqual(variantIdsOfJob({ variants: [{ id: 'a' }, 'b'], variantId: 'a' }), ['a', 'b']);
  assert.deepEqual(variantIdsOfJob(null), []);
});

function withHistory(fn: (h: History) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-results-'));
  const h = openHistory(dir);
  try {
    fn(h);
  } finally {
    h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('results.summary on a real history: metrics, benchmarks and compiler reports become points', () => {
  withHistory((h) => {
    const m = h.addModel({ name: 'mnist', format: 'tfjs-layers', path: '/m/model.json', sha256: 'a'.repeat(64) });
    const bench = (p50: number) => ({ runtime: 'tflite-wasm', warmMinMs: p50, warmP50Ms: p50, warmP90Ms: p50, warmP99Ms: p50, runs: 10 });
    const base = h.addVariant({ modelId: m.id, name: 'float32', recipe: { technique: 'convert' }, artifact: { source: new Uint8Array(4000).fill(1), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.98 }], benchmarks: [bench(4)] });
    const q = h.addVariant({ modelId: m.id, parentId: null, name: 'int8', recipe: { technique: 'int8' }, artifact: { source: new Uint8Array(1000).fill(2), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.979 }, { name: 'agreement', value: 0.996 }], benchmarks: [bench(2), bench(1.5)] });
    const tpu = h.addVariant({
      modelId: m.id, parentId: q.id, name: 'int8 · Edge TPU', recipe: { kind: 'edgetpu-compile' }, artifact: { source: new Uint8Array(1200).fill(3), kind: 'edgetpu-tflite' },
      benchmarks: [{ runtime: 'edgetpu-usb', warmMinMs: 0.5, warmP50Ms: 0.6, warmP90Ms: 0.7, warmP99Ms: 0.8, runs: 50 }],
      reports: { 'edgetpu-compiler': { success: true, tpuOps: 7, cpuOps: 1, ops: [] } },
    });
    const s = resultsSummary(h, { modelId: m.id, goal: 'size' });
    assert.equal(s.baselineId, base.id);
    assert.equal(s.quality, 'accuracy');
    const byId = new Map(s.variants.map((p) => [p.id, p]));
    assert.equal(byId.get(q.id)!.cpuP50Ms, 1.5);
    assert.equal(byId.get(q.id)!.agreement, 0.996);
    assert.equal(byId.get(base.id)!.agreement, 1);
    assert.deepEqual(byId.get(tpu.id)!.edgetpuOps, { mapped: 7, total: 8 });
    assert.equal(byId.get(tpu.id)!.edgetpuP50Ms, 0.6);
    assert.equal(s.recommendation.variantId, q.id);
    assert.match(s.recommendation.reason, /^int8 is 4× smaller and 2\.7× faster than the original and loses 0\.1 points of accuracy\.$/);
    assert.deepEqual(s.fronts.size, [q.id, base.id]);

    // Job-scoped: the job's variants plus the model's original.
    const job = h.createJob('optimize', { modelId: m.id });
    h.updateJob(job.id, { state: 'completed', result: { variantIds: [q.id] } });
    const js = resultsSummary(h, { jobId: job.id });
    assert.deepEqual(js.variants.map((p) => p.id).sort(), [base.id, q.id].sort());
    const pending = h.createJob('optimize', {});
    assert.throws(() => resultsSummary(h, { jobId: pending.id }), /has not produced any variants yet/);
  });
});

test('compare: recipe, size, metric, benchmark and op rows with differs flags', () => {
  withHistory((h) => {
    const m = h.addModel({ name: 'mobilenet', format: 'tflite', path: '/m.tflite', sha256: 'b'.repeat(64) });
    const tflite = new Uint8Array(readFileSync(new URL('mobilenet_v1_0.25_128_quant.tflite', CORAL)));
    const a = h.addVariant({ modelId: m.id, name: 'A', recipe: { technique: 'int8', calibration: { method: 'mse', samples: 500 }, fallback: { floatOps: [] } }, artifact: { source: tflite, kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.7 }] });
    const b = h.addVariant({ modelId: m.id, name: 'B', recipe: { technique: 'int8', calibration: { method: 'kl', samples: 500 }, fallback: { floatOps: ['conv1', 'fc'] } }, artifact: { source: new Uint8Array([1, 2, 3]), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.7 }] });
    const c = compareVariants(h, [a.id, b.id]);
    assert.deepEqual(c.variants.map((v) => v.name), ['A', 'B']);
    const row = (label: string) => c.rows.find((r) => r.label === label)!;
    assert.deepEqual(row('calibration.method').values, ['mse', 'kl']);
    assert.equal(row('calibration.method').differs, true);
    assert.equal(row('calibration.samples').differs, false);
    assert.deepEqual(row('fallback.floatOps').values, ['—', 'conv1, fc']);
    assert.equal(row('accuracy').differs, false);
    assert.equal(row('File size').differs, true);
    // The real MobileNet has 15 CONV_2D ops; B is not a readable model, so its op cells are null.
    assert.deepEqual(row('CONV_2D').values, [15, null]);
    assert.equal(c.rows.filter((r) => r.differs).length < c.rows.length, true);

    assert.throws(() => compareVariants(h, [a.id]), /2 to 4 variants/);
    assert.throws(() => compareVariants(h, [a.id, 'nope']), /No variant with id nope/);
  });
});

test('flattenRecipe gives dotted keys', () => {
  assert.deepEqual([...flattenRecipe({ a: 1, b: { c: 'x', d: [1, 2] }, e: null })], [['a', 1], ['b.c', 'x'], ['b.d', '1, 2'], ['e', null]]);
});
