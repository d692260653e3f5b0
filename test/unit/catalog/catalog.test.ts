// The committed catalog validates, its known checksums match our shared fixture copies, bad catalogs are
// refused with the field named; samples.list hands out pre-picked handles and the sample dataset is readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogEntry, loadCatalog, parseCatalog } from '../../../main/catalog/catalog.ts';
import { samplePath } from '../../../main/catalog/samples.ts';
import { imageFolderSource } from '../../../main/data/image-folder.ts';
import { decodeImageFile } from '../../../main/data/image.ts';
import { createServices } from '../../../main/api/services.ts';
import { createApi } from '../../../main/api/index.ts';

const CORAL = new URL('../../../../shared/fixtures/coral/', import.meta.url);

test('catalog.json is valid, versioned, and its recorded checksums match the real files', () => {
  const c = loadCatalog();
  assert.equal(c.version, 1);
  assert.ok(c.models.length >= 8);
  for (const id of ['mobilenet-v1-0.25-128-quant-edgetpu', 'mobilenet-v1-0.25-128-quant']) {
    const e = catalogEntry(id);
    const bytes = readFileSync(new URL(e.fileName, CORAL));
    assert.equal(bytes.length, e.sizeBytes);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256);
  }
  // Every figure names its source; nothing unsourced slips in.
  for (const m of c.models) for (const f of [...m.accuracy, ...m.latency, ...m.publishedSize]) assert.ok(f.source.length > 5, `${m.id}: ${JSON.stringify(f)}`);
  assert.throws(() => catalogEntry('nope'), /No model "nope" in the catalog/);
});

test('bad catalogs are refused naming the field', () => {
  const good = loadCatalog();
  assert.throws(() => parseCatalog({ version: 2, models: [] }), /version 2 is not supported/);
  const m = good.models[0]!;
  assert.throws(() => parseCatalog({ version: 1, models: [{ ...m, fileName: '../evil' }] }), /models\.0\.fileName/);
  assert.throws(() => parseCatalog({ version: 1, models: [{ ...m, url: 'file:///etc/passwd' }] }), /models\.0\.url/);
  assert.throws(() => parseCatalog({ version: 1, models: [m, m] }), /duplicate model id/);
});

test('the sample dataset is a labelled image folder of 300 28×28 greyscale digits', async () => {
  const src = imageFolderSource(samplePath('mnist-sample'));
  assert.equal(src.count, 300);
  assert.deepEqual(src.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const img = await decodeImageFile(join(samplePath('mnist-sample'), '7', '00000.png'));
  assert.equal(img.width, 28);
  assert.equal(img.height, 28);
});

test('samples.list and catalog.list through the API; sample handles open for their purpose', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-samples-'));
  const services = createServices({ dataDir: dir });
  try {
    const api = createApi(services);
    const r = await api.handlers['samples.list']({});
    assert.ok(r.ok);
    const ds = r.value.find((s) => s.id === 'mnist-sample')!;
    assert.equal(ds.kind, 'dataset');
    assert.equal(ds.details.images, 300);
    assert.equal(services.files.resolve(ds.file.handle, 'dataset'), samplePath('mnist-sample'));
    assert.throws(() => services.files.resolve(ds.file.handle, 'model'), /picked as a dataset/);
    const model = r.value.find((s) => s.id === 'mnist-cnn');
    if (model) assert.equal(services.files.resolve(model.file.handle, 'model'), samplePath('mnist-cnn'));
    const c = await api.handlers['catalog.list']({});
    assert.ok(c.ok);
    assert.equal(c.value.models.length, loadCatalog().models.length);
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
