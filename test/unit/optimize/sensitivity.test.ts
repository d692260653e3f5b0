/**
 * Per-layer sensitivity measured in the runtime, automatic float fallback producing a valid mixed model, and
 * cross-layer equalization keeping the float function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../main/model/load.ts';
import { optimizeForExport } from '../../../main/model/passes.ts';
import { run } from '../../../main/model/executor.ts';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { openDataset } from '../../../main/data/index.ts';
import { buildVariant } from '../../../main/optimize/ptq/build.ts';
import { calibrate, rangesFor } from '../../../main/optimize/ptq/calibrate.ts';
import { quantizeInt8 } from '../../../main/optimize/ptq/int8.ts';
import { equalizeGraph } from '../../../main/optimize/ptq/equalize.ts';
import { int8FileViolations } from '../../../main/optimize/ptq/verify.ts';
import { layerSensitivity } from '../../../main/optimize/sensitivity.ts';
import { presetRecipe } from '../../../main/optimize/recipe.ts';
import { predictTflite } from '../../../main/evaluate/predict.ts';
import { npy, tempDir } from '../data/helpers.ts';

const MODELS = fileURLToPath(new URL('../../fixtures/models/tfjs/', import.meta.url));

async function setup(model: string, shape: number[]) {
  await initCompute();
  const graph = optimizeForExport((await loadModel(`${MODELS}${model}/model.json`)).graph);
  const file = join(tempDir('ptq-sens-'), 'x.npy');
  const n = 110;
  const size = shape.reduce((a, b) => a * b, 1);
  writeFileSync(file, npy('<f4', [n, ...shape], Float32Array.from({ length: n * size }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32)));
  const ds = await openDataset({ location: file, preprocessing: { scale: 'raw' } });
  return { graph, ds };
}

test('layer sensitivity: one entry per quantized activation, sorted by the SQNR each layer loses, local SQNR bounds the runtime SQNR', async () => {
  const { graph, ds } = await setup('blocks', [8, 8, 4]);
  const runCal = await calibrate(graph, ds);
  const q = quantizeInt8(graph, { ranges: rangesFor(runCal, { kind: 'minmax' }) });
  const sens = await layerSensitivity(graph, q.graph, ds, 8);
  assert.ok(sens.length >= 10, `${sens.length} layers`);
  const loss = (l: (typeof sens)[number]) => (Number.isNaN(l.sqnrLossDb) ? -Infinity : l.sqnrLossDb);
  for (let i = 1; i < sens.length; i++) assert.ok(loss(sens[i - 1]!) >= loss(sens[i]!), 'sorted by SQNR loss');
  assert.ok(sens.every((l) => Number.isFinite(l.rmseOverScale) && l.scale > 0 && l.op && l.tensor));
  assert.ok(sens.every((l) => l.localSqnrDb >= l.sqnrDb - 1e-6 || !Number.isFinite(l.sqnrDb)), 'exact inputs never do worse than the runtime');
  assert.ok(sens.some((l) => Number.isFinite(l.sqnrDb) && l.sqnrDb > 10), 'most layers are well above 10 dB');
});

test('--fallback auto keeps the most sensitive layers float until the target, giving a valid mixed model', async () => {
  const { graph, ds } = await setup('blocks', [8, 8, 4]);
  const recipe = presetRecipe('int8');
  // A deliberately bad calibration (clip at the 55th percentile) so the int8 model disagrees and fallback must act.
  recipe.calibration = { ...recipe.calibration, method: 'percentile', percentile: 55 };
  recipe.fallback = { ...recipe.fallback, mode: 'auto', minAgreement: 1, maxFloatOps: 4 };
  const b = await buildVariant(graph, recipe, { calibration: ds });
  const steps = b.report.fallback!.steps;
  assert.ok(steps.length >= 2, `${steps.length} steps`);
  assert.deepEqual(steps.map((s) => s.floatOps.length), [0, 1, 2, 4].slice(0, steps.length));
  const chosen = steps.at(-1)!;
  const kept = new Set(b.report.floatOps!.map((o) => o.op));
  for (const op of chosen.floatOps) assert.ok(kept.has(op), `${op} kept float`);
  assert.ok(b.report.floatOps!.some((o) => o.reason === 'kept in float (sensitivity fallback)') || chosen.floatOps.length === 0);
  assert.deepEqual(int8FileViolations(b.bytes, 'mixed.tflite', kept), []);
  const p = await predictTflite(b.bytes, ds, { limit: 5 });
  assert.ok(p.outputs.every(Number.isFinite), 'the mixed model runs');
  assert.ok(chosen.top1Agreement >= steps[0]!.top1Agreement - 0.05, 'fallback does not make agreement worse');
});

test('cross-layer equalization balances depthwise→conv pairs and keeps the float function', async () => {
  const { graph } = await setup('convnet', [16, 16, 3]);
  const { graph: eq, report } = equalizeGraph(graph);
  assert.ok(report.pairs.length >= 1, JSON.stringify(report));
  const x = Float32Array.from({ length: 4 * 16 * 16 * 3 }, (_, i) => (i % 13) / 13);
  const a = (await run(graph, { [graph.inputs[0]!]: x }))[graph.outputs[0]!]!.data;
  const b = (await run(eq, { [eq.inputs[0]!]: x }))[eq.outputs[0]!]!.data;
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `output ${i}: ${a[i]} vs ${b[i]}`);
  const dw = report.pairs[0]!.depthwise;
  const w0 = graph.tensors.get(graph.ops.find((o) => o.name === dw)!.inputs[1]!)!.data as Float32Array;
  const w1 = eq.tensors.get(eq.ops.find((o) => o.name === dw)!.inputs[1]!)!.data as Float32Array;
  assert.notDeepEqual(Array.from(w0), Array.from(w1), 'weights were rescaled');
});
