// models.inspect / datasets.inspect / history.variantPage through the real API layer: real importers, a real
// temporary history, real files (fixture models, PNGs written here, a corrupt model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { createApi } from '../../../main/api/index.ts';
import { createServices } from '../../../main/api/services.ts';
import type { ApiMethod, ArgsOf, Result, ResultOf } from '../../../preload/contract.ts';

/** dispatch with the contract's types, so the assertions below are type-checked. */
function call<M extends ApiMethod>(api: ReturnType<typeof createApi>, method: M, args: ArgsOf<M>): Promise<Result<ResultOf<M>>> {
  return api.dispatch(method, args) as Promise<Result<ResultOf<M>>>;
}

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-inspect-'));
  const services = createServices({ dataDir: join(dir, 'data') });
  const api = createApi(services);
  return {
    dir,
    api,
    services,
    async [Symbol.asyncDispose]() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writePng(path: string, size: number, value: number): void {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) png.data.set([value, value, value, 255], i * 4);
  writeFileSync(path, PNG.sync.write(png));
}

test('models.inspect imports a Keras model, records it and describes it with an Edge TPU preview', async () => {
  await using t = setup();
  const { handle } = t.services.files.register(join(MODELS, 'keras/convnet.keras'), 'model');
  const r = await call(t.api, 'models.inspect', { file: handle });
  assert.ok(r.ok, JSON.stringify(r));
  const info = r.value;
  assert.equal(info.format, 'keras');
  assert.equal(info.fileName, 'convnet.keras');
  assert.match(info.summary, /^Takes .* images/);
  assert.ok(info.parameterCount! > 0 && info.opCount > 0 && info.fileSize > 0);
  assert.equal(info.quantized, false);
  assert.equal(info.edgeTpu?.basis, 'after-int8');
  assert.equal(info.edgeTpu?.total, info.edgeTpu?.ops.reduce((n, o) => n + o.count, 0));
  // Recorded: the history lists it, and importing it again returns the same model.
  const models = await call(t.api, 'history.listModels', {});
  assert.ok(models.ok && models.value.items.some((m) => m.id === info.model.id));
  const again = await call(t.api, 'models.inspect', { file: handle });
  assert.ok(again.ok && again.value.model.id === info.model.id);
});

test('a TF.js layers model counts its weight files in the size', async () => {
  await using t = setup();
  const { handle } = t.services.files.register(join(MODELS, 'tfjs/convnet/model.json'), 'model');
  const r = await call(t.api, 'models.inspect', { file: handle });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.format, 'tfjs-layers');
  assert.ok(r.value.fileSize > r.value.parameterCount! * 4 * 0.9, 'weights (float32) are part of the size');
  // …and of the zipped size (float weights barely compress; model.json alone would be a few hundred bytes).
  assert.ok(r.value.gzippedSize > r.value.parameterCount! * 4 * 0.3 && r.value.gzippedSize < r.value.fileSize, `gzipped ${r.value.gzippedSize} of ${r.value.fileSize}`);
});

test('a corrupt model file is BAD_MODEL naming the file, with what to do', async () => {
  await using t = setup();
  const bad = join(t.dir, 'broken.keras');
  writeFileSync(bad, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]));
  const { handle } = t.services.files.register(bad, 'model');
  const r = await call(t.api, 'models.inspect', { file: handle });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'BAD_MODEL');
  assert.match(r.error.message, /^broken\.keras: /);
  assert.ok(!r.error.message.includes(t.dir), 'no path in the message');
  assert.match(r.error.hint ?? '', /Keras/);
  const models = await call(t.api, 'history.listModels', {});
  assert.ok(models.ok && models.value.total === 0, 'nothing recorded for a bad file');
});

test('datasets.inspect applies the model preprocessing, renders a sample and flags misfits', async () => {
  await using t = setup();
  const model = await call(t.api, 'models.inspect', { file: t.services.files.register(join(MODELS, 'keras/convnet.keras'), 'model').handle });
  assert.ok(model.ok);
  const folder = join(t.dir, 'images');
  for (const cls of ['a', 'b']) {
    mkdirSync(join(folder, cls), { recursive: true });
    for (let i = 0; i < 3; i++) writePng(join(folder, cls, `${i}.png`), 40, cls === 'a' ? 30 : 220);
  }
  const { handle } = t.services.files.register(folder, 'dataset');
  const r = await call(t.api, 'datasets.inspect', { file: handle, modelId: model.value.model.id });
  assert.ok(r.ok, JSON.stringify(r));
  const ds = r.value;
  assert.equal(ds.count, 6);
  assert.equal(ds.labelled, true);
  assert.deepEqual(ds.classNames, ['a', 'b']);
  const input = model.value.inputs[0]!.shape.slice(1);
  assert.deepEqual(ds.sampleShape, input, 'resized to the model input');
  assert.deepEqual(ds.problems, []);
  assert.ok(ds.warnings.some((w) => /Only 6 samples/.test(w)));
  assert.match(ds.preview!.image, /^data:image\/png;base64,/);
  assert.equal(ds.preview!.label, 'a');
  // A wrong channel count no longer fits the model.
  const wrong = await call(t.api, 'datasets.inspect', { file: handle, modelId: model.value.model.id, preprocessing: { channels: input[2] === 1 ? 3 : 1 } });
  assert.ok(wrong.ok);
  assert.match(wrong.value.problems[0] ?? '', /the model takes/);
  // Bad preprocessing values are rejected by the schema, naming the field.
  const invalid = await call(t.api, 'datasets.inspect', { file: handle, preprocessing: { scale: 'huge' } as never });
  assert.ok(!invalid.ok && invalid.error.code === 'INVALID_ARGUMENT' && /preprocessing\.scale/.test(invalid.error.message));
});

test('history.variantPage returns lineage, children, reports and the artifact graph', async () => {
  await using t = setup();
  const { loadModel } = await import('../../../main/model/load.ts');
  const { optimizeForExport } = await import('../../../main/model/passes.ts');
  const { exportTflite } = await import('../../../main/tflite/from-ir.ts');
  const loaded = await loadModel(join(MODELS, 'keras/mlp.keras'));
  const bytes = exportTflite(optimizeForExport(loaded.graph));
  const h = t.services.history;
  const m = h.addModel({ name: 'mlp', format: 'keras', path: '/x', sha256: 'ab'.repeat(32), parameterCount: 1 });
  const root = h.addVariant({ modelId: m.id, name: 'converted', recipe: { technique: 'convert' }, status: 'ready', artifact: { source: bytes, kind: 'tflite' } });
  const child = h.addVariant({ modelId: m.id, parentId: root.id, name: 'int8', recipe: { technique: 'int8' }, status: 'ready', artifact: { source: bytes, kind: 'tflite' } });
  h.putReport(child.id, 'sensitivity', { layers: [{ name: 'dense', sqnrDb: 30 }] });
  const r = await call(t.api, 'history.variantPage', { id: child.id });
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.lineage.map((v) => v.id), [root.id]);
  assert.deepEqual(Object.keys(r.value.reports), ['sensitivity']);
  assert.ok(r.value.graph && r.value.graph.opCount > 0 && r.value.graph.inputs.length === 1);
  const parent = await call(t.api, 'history.variantPage', { id: root.id });
  assert.ok(parent.ok && parent.value.children.map((v) => v.id).join() === child.id);
});
