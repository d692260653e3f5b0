/**
 * The optimize pipeline end to end on a small CNN fixture with a real SQLite history and the real TFLite runtime:
 * a stored variant with artifact, metrics, benchmark, reports and lineage (model → float → variant); the CLI
 * commands; and bad input (data that does not fit, empty folder, label count mismatch, NaN, unquantizable op for
 * the Edge TPU) failing with clear errors and NOTHING written to the history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runOptimize } from '../../main/optimize/pipeline.ts';
import { openHistory } from '../../main/history/index.ts';
import { npy, tempDir } from '../unit/data/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONVNET = join(ROOT, 'test/fixtures/models/tfjs/convnet/model.json');
const BLOCKS = join(ROOT, 'test/fixtures/models/tfjs/blocks/model.json');

function samples(dir: string, name: string, n: number, shape: number[], fill: (i: number) => number): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const file = join(dir, name);
  writeFileSync(file, npy('<f4', [n, ...shape], Float32Array.from({ length: n * size }, (_, i) => fill(i))));
  return file;
}

function historyCounts(dataDir: string): { models: number; variants: number } {
  if (!existsSync(join(dataDir, 'history.sqlite')) && !existsSync(dataDir)) return { models: 0, variants: 0 };
  const h = openHistory(dataDir);
  try {
    return { models: h.listModels().total, variants: h.listVariants().total };
  } finally {
    h.close();
  }
}

test('int8 with evaluation: variant, artifact, metrics, benchmark and reports stored in one go, with lineage', async () => {
  const dir = tempDir('ptq-pipe-');
  const dataDir = join(dir, 'home');
  const calib = samples(dir, 'calib.npy', 120, [8, 8, 4], (i) => ((i * 2654435761) >>> 0) / 2 ** 32);
  const evalX = samples(dir, 'eval.npy', 40, [8, 8, 4], (i) => ((i * 40503 + 7) % 1000) / 1000);
  const stages: string[] = [];
  const r = await runOptimize(
    { model: BLOCKS, recipe: 'int8', calibration: { location: calib }, eval: { location: evalX }, outDir: join(dir, 'out'), benchmark: { runs: 5, warmup: 1 } },
    { dataDir, progress: (s) => { if (stages.at(-1) !== s) stages.push(s); } },
  );
  assert.deepEqual(stages, ['import', 'calibrate', 'quantize', 'write', 'evaluate', 'benchmark', 'store']);
  assert.equal(r.report.calibration?.method, 'percentile');
  assert.equal(r.report.calibration?.samples, 120);
  assert.ok(r.evaluation && r.evaluation.agreement.samples === 40);
  // A small random-weight model with a tanh head: near-ties make top-1 noisy, the output error is the real check.
  assert.ok(r.evaluation.agreement.top1Agreement >= 0.5, `agreement ${r.evaluation.agreement.top1Agreement}`);
  assert.ok(r.evaluation.agreement.meanAbsDelta < 0.05, `mean |Δ| ${r.evaluation.agreement.meanAbsDelta}`);
  assert.ok(r.benchmark.variant.warmP50Ms > 0 && r.benchmark.float.runs === 5);
  assert.ok(existsSync(r.outFile!) && readFileSync(r.outFile!).length === r.sizes.variantBytes);

  const h = openHistory(dataDir);
  try {
    const v = h.getVariantDetail(r.stored!.variantId);
    assert.equal(v.parentId, r.stored!.floatVariantId);
    assert.deepEqual(h.lineage(v.id).map((x) => x.name), ['float']);
    assert.deepEqual((v.recipe as { calibration: { method: string } }).calibration.method, 'percentile');
    assert.equal(v.artifact?.size, r.sizes.variantBytes);
    assert.ok(v.metrics.some((m) => m.name === 'top1_agreement'));
    assert.equal(v.benchmarks.length, 1);
    assert.deepEqual([...v.reportKinds].sort(), ['evaluation', 'ptq', 'sensitivity']);
    const sensitivity = h.getReport(v.id, 'sensitivity') as { op: string; sqnrDb: number }[];
    assert.ok(sensitivity.length > 0 && sensitivity.every((l) => l.op && Number.isFinite(l.sqnrDb)), 'per-layer sensitivity of every int8 variant');
    assert.equal(h.listDatasets().length, 2);
  } finally {
    h.close();
  }
  // A second variant of the same model reuses the model record and its float parent.
  const r2 = await runOptimize({ model: BLOCKS, recipe: 'fp16', benchmark: { runs: 2, warmup: 0 } }, { dataDir });
  assert.equal(r2.stored!.modelId, r.stored!.modelId);
  assert.equal(r2.stored!.floatVariantId, r.stored!.floatVariantId);
  assert.deepEqual(historyCounts(dataDir), { models: 1, variants: 3 });
});

test('bad input fails clearly and writes nothing to the history', async () => {
  const dir = tempDir('ptq-bad-');
  const dataDir = join(dir, 'home');
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const wrongShape = samples(dir, 'wrong.npy', 120, [10], () => 0.5);
  const x = samples(dir, 'x.npy', 20, [16, 16, 3], () => 0.5);
  const y = join(dir, 'y.npy');
  writeFileSync(y, npy('<i4', [19], new Int32Array(19)));
  const nan = samples(dir, 'nan.npy', 120, [16, 16, 3], (i) => (i === 1000 ? NaN : 0.5));
  const cases: [string, Parameters<typeof runOptimize>[0], RegExp, string][] = [
    ['data that does not fit the model', { model: CONVNET, recipe: 'int8', calibration: { location: wrongShape } }, /gives samples of shape \[10\] but model input "image" expects \[16, 16, 3\]/, 'BAD_DATA'],
    ['empty folder', { model: CONVNET, recipe: 'int8', calibration: { location: empty } }, /contains no images/, 'BAD_DATA'],
    ['label count mismatch', { model: CONVNET, recipe: 'int8', calibration: { location: x }, eval: { location: x, labels: y } }, /20 samples but 19 labels|19 labels/, 'BAD_DATA'],
    ['NaN in the data', { model: CONVNET, recipe: 'int8', calibration: { location: nan } }, /contains NaN/, 'BAD_DATA'],
    ['unquantizable op for the Edge TPU', { model: CONVNET, recipe: 'int8-edgetpu', calibration: { location: x } }, /op "[^"]+" \(ELU\) cannot be quantized/, 'UNSUPPORTED'],
    ['missing calibration data', { model: CONVNET, recipe: 'int8' }, /needs a representative dataset/, 'INVALID_ARGUMENT'],
    ['missing model', { model: join(dir, 'nope.keras'), recipe: 'fp16' }, /Model file not found/, 'BAD_MODEL'],
  ];
  for (const [what, params, message, code] of cases) {
    await assert.rejects(runOptimize({ ...params, benchmark: { runs: 1, warmup: 0 } }, { dataDir }), (e: Error & { code?: string }) => {
      assert.match(e.message, message, what);
      assert.equal(e.code, code, `${what}: ${e.message}`);
      return true;
    });
  }
  assert.deepEqual(historyCounts(dataDir), { models: 0, variants: 0 });
});

test('cancel before the store stage stores nothing', async () => {
  const dir = tempDir('ptq-cancel-');
  const dataDir = join(dir, 'home');
  const ac = new AbortController();
  await assert.rejects(
    runOptimize({ model: CONVNET, recipe: 'fp16', benchmark: { runs: 1, warmup: 0 } }, { dataDir, signal: ac.signal, progress: (s) => { if (s === 'benchmark') ac.abort(); } }),
    /cancelled/,
  );
  assert.deepEqual(historyCounts(dataDir), { models: 0, variants: 0 });
});

test('CLI: benchmark and evaluate print JSON; a bad flag exits non-zero with the reason', () => {
  const dir = tempDir('ptq-cli-');
  const env = { ...process.env, EDGEWISE_HOME: join(dir, 'home') };
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/edgewise.js'), ...args], { env, encoding: 'utf8', timeout: 120_000 });
  const opt = cli('optimize', CONVNET, '--recipe', 'fp16', '--out', join(dir, 'out'), '--runs', '2', '--json');
  assert.equal(opt.status, 0, opt.stderr);
  const out = JSON.parse(opt.stdout) as { outFile: string; sizes: { ratio: number } };
  assert.ok(out.sizes.ratio < 1);
  const bench = cli('benchmark', out.outFile, '--runs', '3', '--warmup', '1', '--json');
  assert.equal(bench.status, 0, bench.stderr);
  const b = JSON.parse(bench.stdout) as { runs: number; coldMs: number; warmP99Ms: number; runtime: string; threads: number; machine: { cores: number } };
  assert.equal(b.runs, 3);
  assert.equal(b.runtime, 'tflite-wasm');
  assert.ok(b.coldMs > 0 && b.warmP99Ms > 0 && b.threads === 1 && b.machine.cores > 0);
  const x = samples(dir, 'x.npy', 10, [16, 16, 3], (i) => (i % 255) / 255);
  const ev = cli('evaluate', out.outFile, '--data', x, '--reference', CONVNET, '--json');
  assert.equal(ev.status, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { reference: { agreement: { top1Agreement: number; samples: number } } };
  assert.equal(e.reference.agreement.samples, 10);
  assert.ok(e.reference.agreement.top1Agreement >= 0.9);
  const bad = cli('optimize', CONVNET, '--recipe', 'int9');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /neither a preset \(fp16, dynamic, int8, int8-edgetpu\) nor a readable JSON file/);
});
