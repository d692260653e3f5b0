// history.rerun through the real API layer: a real optimize job (worker thread, TFLite runtime) builds an int8
// variant of a small fixture model, then re-running it with changes builds a sibling under the same model with
// exactly the changed recipe and the data of the original job. Also: the model the wizard's import step records
// is the model the pipeline stores under, and the errors a re-run can give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi } from '../../../main/api/index.ts';
import { createServices } from '../../../main/api/services.ts';
import { applyRecipeChanges } from '../../../main/api/rerun.ts';
import { presetRecipe } from '../../../main/optimize/recipe.ts';
import type { ApiMethod, ArgsOf, JobSummary, Result, ResultOf } from '../../../preload/contract.ts';
import { npy } from '../data/helpers.ts';

function call<M extends ApiMethod>(api: ReturnType<typeof createApi>, method: M, args: ArgsOf<M>): Promise<Result<ResultOf<M>>> {
  return api.dispatch(method, args) as Promise<Result<ResultOf<M>>>;
}
function ok<T>(r: Result<T>): T {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

const BLOCKS = fileURLToPath(new URL('../../fixtures/models/tfjs/blocks/model.json', import.meta.url));

test('applyRecipeChanges changes only what was asked and names the variant after it', () => {
  const int8 = presetRecipe('int8');
  const next = applyRecipeChanges(int8, { calibrationMethod: 'minmax', samples: 64, biasCorrection: false });
  assert.equal(next.name, 'int8 (minmax, 64 samples, no bias correction)');
  assert.deepEqual({ ...next, name: int8.name }, { ...int8, calibration: { ...int8.calibration, method: 'minmax', samples: 64 }, biasCorrection: false });
  assert.equal(applyRecipeChanges(int8, { calibrationMethod: int8.calibration.method }).name, 'int8 (re-run)');
  assert.equal(applyRecipeChanges(int8, { name: 'mine' }).name, 'mine');
  assert.equal(int8.calibration.method, 'percentile', 'the input recipe is not modified');
});

test('history.rerun builds the changed recipe as a sibling under the same model, with the original job data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-rerun-'));
  const services = createServices({ dataDir: join(dir, 'data') });
  const api = createApi(services);
  try {
    const calib = join(dir, 'calib.npy');
    writeFileSync(calib, npy('<f4', [80, 8, 8, 4], Float32Array.from({ length: 80 * 256 }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32)));
    const model = services.files.register(BLOCKS, 'model');
    const data = services.files.register(calib, 'dataset');
    const imported = ok(await call(api, 'models.inspect', { file: model.handle }));

    const first = ok(await call(api, 'optimize.start', { model: model.handle, recipe: 'int8', calibration: { file: data.handle }, eval: { file: data.handle, limit: 20 } }));
    const done = await services.jobs.wait(first.id);
    assert.equal(done.state, 'completed', done.error ?? '');
    const [variantId] = (done.result as { variantIds: string[] }).variantIds;
    const original = services.history.getVariant(variantId!);
    // The wizard shows results for the model its import step recorded: the pipeline must store under it.
    assert.equal(original.modelId, imported.model.id);

    const again = ok(await call(api, 'history.rerun', { id: original.id, changes: { calibrationMethod: 'minmax', samples: 40 } }));
    assert.equal(again.kind, 'optimize');
    const rerun = await services.jobs.wait(again.id);
    assert.equal(rerun.state, 'completed', rerun.error ?? '');
    const [newId] = (rerun.result as { variantIds: string[] }).variantIds;
    const sibling = services.history.getVariant(newId!);
    assert.equal(sibling.modelId, original.modelId);
    assert.equal(sibling.parentId, original.parentId, 'same parent (the float model) as the variant re-run');
    assert.equal(sibling.name, 'int8 (minmax, 40 samples)');
    const recipe = sibling.recipe as ReturnType<typeof presetRecipe>;
    assert.equal(recipe.calibration.method, 'minmax');
    assert.equal(recipe.calibration.samples, 40);
    assert.deepEqual({ ...recipe, name: 'x', calibration: null }, { ...(original.recipe as object), name: 'x', calibration: null });
    // The original job's evaluation data came along: the new variant has an accuracy-free agreement metric.
    const agreementOn = (v: typeof sibling) => v.metrics.find((m) => m.name === 'top1_agreement')?.datasetId;
    assert.ok(agreementOn(sibling), JSON.stringify(sibling.metrics));
    // Same data → the same dataset row, so the two variants' metrics line up in compare.
    assert.equal(agreementOn(sibling), agreementOn(original));

    // Errors: the float parent has no optimization recipe; a bad change; an unknown id; an int8 variant with no job on record.
    const float = await call(api, 'history.rerun', { id: original.parentId!, changes: {} });
    assert.equal(!float.ok && float.error.code, 'UNSUPPORTED');
    assert.match(!float.ok ? float.error.message : '', /"float" was not built from an optimization recipe/);
    const bad = await call(api, 'history.rerun', { id: original.id, changes: { percentile: 20 } });
    assert.equal(!bad.ok && bad.error.code, 'INVALID_ARGUMENT');
    assert.match(!bad.ok ? bad.error.message : '', /percentile/);
    const missing = await call(api, 'history.rerun', { id: 'nope', changes: {} });
    assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
    const orphan = services.history.addVariant({ modelId: original.modelId, name: 'int8 by hand', recipe: original.recipe, status: 'ready' });
    const noData = await call(api, 'history.rerun', { id: orphan.id, changes: {} });
    assert.equal(!noData.ok && noData.error.code, 'BAD_DATA');
    assert.match(!noData.ok ? noData.error.hint ?? '' : '', /Choose calibration data/);
    // …which picking data fixes.
    const withData = ok(await call(api, 'history.rerun', { id: orphan.id, changes: { samples: 16 }, calibration: { file: data.handle } }));
    assert.equal(((await services.jobs.wait(withData.id)) as JobSummary).state, 'completed');
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('optimize jobs use the compute backend chosen in Settings, and explain one that is not available', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-compute-'));
  const services = createServices({ dataDir: join(dir, 'data') });
  const api = createApi(services);
  // An explicit EDGEWISE_BACKEND (tests, debugging) would win over the setting: this test is about the setting.
  const forced = process.env.EDGEWISE_BACKEND;
  delete process.env.EDGEWISE_BACKEND;
  try {
    const model = services.files.register(BLOCKS, 'model');
    ok(await call(api, 'settings.set', { computeBackend: 'cpu', threads: 4 }));
    const job = await services.jobs.wait(ok(await call(api, 'optimize.start', { model: model.handle, recipe: 'fp16' })).id);
    assert.equal(job.state, 'completed', job.error ?? '');
    const log = services.jobs.detail(job.id).logTail.join('\n');
    assert.match(log, /compute backend: cpu \(from Settings\), 1 thread \(the 4-thread setting does not apply/);

    ok(await call(api, 'settings.set', { computeBackend: 'tensorflow' }));
    const failed = await services.jobs.wait(ok(await call(api, 'optimize.start', { model: model.handle, recipe: 'fp16' })).id);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error ?? '', /compute backend "tensorflow" chosen in Settings is not available.*Choose "Automatic" in Settings/);
  } finally {
    if (forced !== undefined) process.env.EDGEWISE_BACKEND = forced;
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
