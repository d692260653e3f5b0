// The acceptance walk-throughs in Debian Chromium against the real services (web test host):
// (a) the whole wizard on the sample model, (b) history with lineage and compare, (c) a corrupt model explained,
// (d) cancelling a running job, (e) the Devices screen with the emulated Coral stick and a benchmark.
// Screenshots of each screen go to test-results/screenshots/ in light and dark.
import type { Page } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dismissToasts, hostPost, shoot, SCREENSHOTS, test, expect } from './app.page.ts';
import { CORAL } from './global-setup.ts';

/** The sample model (samples.list) is the trained MNIST CNN fixture. */
const SAMPLE_MODEL = new URL('../fixtures/models/mnist-cnn/model.json', import.meta.url);

function withHistory<T>(fn: (h: import('../../main/history/index.ts').History) => T): Promise<T> {
  return import('../../main/history/index.ts').then(({ openHistory }) => {
    const history = openHistory(process.env.EDGEWISE_E2E_HOME!);
    try {
      return fn(history);
    } finally {
      history.close();
    }
  });
}

test.describe('wizard and history', () => {
  test('(c) a corrupt model file is explained: what failed, in which file, and what to do', async ({ page, app }) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgewise-e2e-bad-'));
    const bad = join(dir, 'broken_model.keras');
    writeFileSync(bad, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(300, 9)]));
    await hostPost('/__test/pick', { path: bad });
    await page.getByRole('button', { name: 'Choose a model file…' }).click();
    const error = page.getByTestId('model-error');
    await expect(error).toContainText('broken_model.keras could not be imported');
    await expect(error).toContainText('not a readable .keras archive');
    await expect(error).toContainText('What to do:');
    await expect(page.locator('body')).not.toContainText(dir);
    await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
    await shoot(page, 'wizard-error');
  });

  test('step 1–3 on the sample model: summary, Edge TPU preview, goals, data with a preprocessed sample', async ({ page, app }) => {
    await page.getByRole('button', { name: 'Try the sample model' }).click();
    const summary = page.getByTestId('model-summary');
    await expect(summary).toContainText('28×28 grayscale images', { timeout: 20_000 });
    await expect(summary).toContainText('10 classes');
    await expect(page.getByTestId('edgetpu-preview')).toContainText(/\d+ of \d+ ops/);
    await expect(page.getByTestId('picked-model')).toBeVisible(); // the sample data has been read too
    await shoot(page, 'wizard-model');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Runs on the Edge TPU').click();
    await expect(page.getByText('Suggests: Full integer for the Edge TPU')).toBeVisible();
    await page.getByText('Smaller download').click();
    await shoot(page, 'wizard-goal');
    await page.getByRole('button', { name: 'Next' }).click();
    const calib = page.getByTestId('calibration-data');
    await expect(calib).toContainText('samples');
    await expect(calib.getByRole('img')).toBeVisible();
    await expect(calib).toContainText("Samples match the model's input [28 × 28 × 1]");
    await expect(page.getByTestId('evaluation-data')).toContainText('labelled with 10 classes');
    await shoot(page, 'wizard-data');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByTestId('estimate')).toContainText('Estimated time');
    await page.getByText('Advanced options').click();
    await shoot(page, 'wizard-plan');
  });

  test('a model file dropped on the window opens in the wizard; a non-model file is refused by name', async ({ page, app }) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgewise-e2e-drop-'));
    writeFileSync(join(dir, 'notes.txt'), 'not a model');
    await app.goto('History');
    // The test host stands in for the Electron preload + main (which read the paths from a trusted drop event).
    await hostPost('/__test/drop', { paths: [fileURLToPath(SAMPLE_MODEL), join(dir, 'notes.txt')] });
    await expect(app.heading('Optimize')).toBeVisible();
    await expect(page.getByTestId('picked-model')).toHaveText('model.json');
    await expect(page.getByTestId('model-summary')).toContainText('28×28', { timeout: 20_000 });
    await expect(page.getByTestId('toast')).toContainText('notes.txt was not opened');
    await expect(page.locator('body')).not.toContainText(dir);
  });

  test('(b) history: lineage tree, variant page, compare with differences only, delete with confirmation', async ({ page, app }) => {
    const bytes = (await import('node:fs')).readFileSync(join(CORAL, 'split_concat.tflite'));
    const ids = await withHistory((h) => {
      const m = h.addModel({ name: 'lineage_model', format: 'keras', path: '/m/lineage.keras', sha256: 'ef'.repeat(32), parameterCount: 1234 });
      const root = h.addVariant({ modelId: m.id, name: 'original', recipe: { technique: 'convert' }, status: 'ready', artifact: { source: bytes, kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.99 }] });
      const a = h.addVariant({ modelId: m.id, parentId: root.id, name: 'int8 minmax', recipe: { technique: 'int8', calibration: { method: 'minmax' } }, status: 'ready', artifact: { source: bytes, kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.985 }] });
      const b = h.addVariant({ modelId: m.id, parentId: root.id, name: 'int8 mse', recipe: { technique: 'int8', calibration: { method: 'mse' } }, status: 'ready', artifact: { source: bytes, kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.988 }] });
      h.putReport(b.id, 'evaluation', { top1: 0.988, confusion: [[5, 1], [0, 6]] });
      return { root: root.id, a: a.id, b: b.id };
    });
    await app.goto('History');
    await page.getByRole('button', { name: 'lineage_model' }).click();
    const tree = page.getByTestId('lineage-tree');
    await expect(tree).toContainText('lineage_model');
    await expect(tree.getByRole('button', { name: 'int8 mse' })).toBeVisible();
    await shoot(page, 'history-lineage');

    await page.getByRole('checkbox', { name: 'Compare int8 minmax' }).check();
    await page.getByRole('checkbox', { name: 'Compare int8 mse' }).check();
    await page.getByRole('button', { name: 'Compare (2)' }).click();
    const compare = page.getByTestId('compare');
    await expect(compare.getByRole('checkbox', { name: 'Differences only' })).toBeChecked();
    const rows = compare.getByTestId('compare-row');
    await expect(rows.first()).toBeVisible();
    const differing = await rows.count();
    // Differences only: every row shown differs; the same-size rows appear once it is off.
    for (const row of await rows.all()) await expect(row).toHaveClass(/differs/);
    await expect(compare).toContainText('minmax');
    await expect(compare.getByTestId('confusion-matrix')).toBeVisible();
    await shoot(page, 'history-compare');
    await compare.getByRole('checkbox', { name: 'Differences only' }).uncheck();
    expect(await rows.count()).toBeGreaterThan(differing);
    await compare.getByRole('button', { name: 'Close' }).click();

    await tree.getByRole('button', { name: 'int8 mse' }).click();
    const variantPage = page.getByTestId('variant-page');
    await expect(variantPage).toContainText('Made from:');
    await expect(variantPage.getByRole('button', { name: 'original' })).toBeVisible();
    await expect(variantPage.getByTestId('model-tensors')).toBeVisible();
    await shoot(page, 'variant-page');
    // Deploy from the variant page starts with compiling it; without Google's compiler the app says how to get it.
    await variantPage.getByRole('button', { name: 'Compile for the Edge TPU' }).click();
    const compileError = variantPage.getByRole('alert');
    await expect(compileError).toContainText('edgetpu_compiler not found', { timeout: 15_000 });
    await expect(compileError).toContainText('What to do');
    await variantPage.getByRole('button', { name: 'Delete…' }).click();
    await expect(page.getByRole('alertdialog')).toContainText('cannot be undone');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(page.getByTestId('toast')).toContainText('Deleted 1 variant');
    expect(await withHistory((h) => h.variantsOfModel(h.getVariant(ids.a).modelId).map((v) => v.id).sort())).toEqual([ids.root, ids.a].sort());
  });

  test('(e) Devices: the emulated Coral stick with its state, the deployment doctor, and a benchmark on the stick', async ({ page, app }) => {
    const compiled = (await import('node:fs')).readFileSync(join(CORAL, 'mobilenet_v1_0.25_128_quant_edgetpu.tflite'));
    const twin = (await import('node:fs')).readFileSync(join(CORAL, 'mobilenet_v1_0.25_128_quant.tflite'));
    await withHistory((h) => {
      const m = h.addModel({ name: 'mobilenet_v1_0.25_128', format: 'tflite', path: '/m/mobilenet.tflite', sha256: '12'.repeat(32), parameterCount: 470_000 });
      const cpu = h.addVariant({ modelId: m.id, name: 'int8', recipe: { technique: 'int8' }, status: 'ready', artifact: { source: twin, kind: 'tflite' } });
      h.addVariant({ modelId: m.id, parentId: cpu.id, name: 'int8 edgetpu compiled', recipe: { technique: 'edgetpu-compile' }, status: 'ready', artifact: { source: compiled, kind: 'tflite' } });
    });
    await app.goto('Devices');
    const row = page.getByTestId('device-row');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(/Needs firmware|Ready/);
    await expect(row).toContainText('USB 3');
    await expect(page.getByTestId('device-doctor')).toBeVisible();
    await page.getByRole('button', { name: 'Run and benchmark' }).click();
    const result = page.getByTestId('deploy-result');
    await expect(result).toContainText('Cold start', { timeout: 20_000 });
    await expect(result).toContainText(/p50 \d/);
    await expect(result).toContainText('agree');
    // The firmware load re-enumerated the stick: the device table follows.
    await expect(row).toContainText('Ready');
    await expect(row).toContainText('18d1:9302');
    await shoot(page, 'devices-benchmark');
  });
});

test.describe('optimize runs on the sample model', () => {
  test('(a) the whole wizard on the sample model builds int8 and fp16 with real metrics', async ({ page, app }) => {
    test.setTimeout(120_000);
    await page.getByRole('button', { name: 'Try the sample model' }).click();
    await expect(page.getByTestId('model-summary')).toBeVisible({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Custom').click();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByTestId('calibration-data')).toContainText('samples');
    await page.getByRole('button', { name: 'Next' }).click();
    for (const name of ['float16', 'Full integer (int8)']) await expect(page.getByRole('checkbox', { name })).toBeChecked();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const runs = page.getByTestId('run-row');
    await expect(runs).toHaveCount(2);
    await shoot(page, 'wizard-run');
    await expect(page.locator('[data-testid="run-row"][data-state="completed"]')).toHaveCount(2, { timeout: 100_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    const table = page.getByTestId('results-table');
    await expect(table).toContainText('int8');
    await expect(table).toContainText('fp16');
    await expect(table).toContainText(/\d+\.\d+ %/);
    await expect(table).toContainText(/\d+(\.\d+)? ms/);
    await expect(table).toContainText(/\d+ KB/);
    await expect(page.getByTestId('recommendation')).toContainText('Recommended:');
    await expect(table.getByText('recommended')).toBeVisible();
    // The numbers on screen are the stored measurements: both variants under the sample model with real accuracy
    // on the 300 labelled sample images, a size and a CPU benchmark.
    const stored = await withHistory((h) => {
      const model = h.listModels({ search: 'mnist-cnn' }).items[0]!;
      return h.variantsOfModel(model.id).map((v) => ({ name: v.name, parent: v.parentId, detail: h.getVariantDetail(v.id) }));
    });
    for (const name of ['fp16', 'int8']) {
      const v = stored.find((x) => x.name === name);
      expect(v, `${name} stored`).toBeTruthy();
      expect(v!.parent, `${name} has the float model as parent`).toBe(stored.find((x) => x.name === 'float')!.detail.id);
      const accuracy = v!.detail.metrics.find((m) => m.name === 'accuracy')!.value;
      expect(accuracy, `${name} accuracy`).toBeGreaterThan(0.95);
      expect(v!.detail.artifact!.size).toBeGreaterThan(0);
      expect(v!.detail.benchmarks[0]!.warmP50Ms).toBeGreaterThan(0);
    }
    await dismissToasts(page);
    await shoot(page, 'wizard-results');

    // Re-run int8 with changes from its variant page: a new sibling under the same model, the original untouched.
    await table.getByRole('row', { name: /int8/ }).getByRole('button', { name: 'Open' }).click();
    const variantPage = page.getByTestId('variant-page');
    await expect(variantPage.getByRole('heading', { name: 'int8' })).toBeVisible();
    await variantPage.getByRole('button', { name: 'Re-run with changes…' }).click();
    const rerun = page.getByTestId('rerun');
    await rerun.getByLabel('Calibration method').selectOption('minmax');
    await rerun.getByLabel('Calibration samples').fill('100');
    await rerun.getByRole('button', { name: 'Start re-run' }).click();
    await expect(rerun.getByTestId('rerun-status')).toHaveAttribute('data-state', 'completed', { timeout: 60_000 });
    await dismissToasts(page);
    await shoot(page, 'variant-rerun');
    await rerun.getByRole('button', { name: 'Open the new variant' }).click();
    await expect(variantPage.getByRole('heading', { name: 'int8 (minmax, 100 samples)' })).toBeVisible();
    await expect(variantPage).toContainText('"method": "minmax"');
    await expect(variantPage.getByRole('navigation', { name: 'Lineage' }).getByRole('button', { name: 'float' })).toBeVisible();
    await shoot(page, 'variant-page-real');
    const siblings = await withHistory((h) => h.variantsOfModel(h.listModels({ search: 'mnist-cnn' }).items[0]!.id).map((v) => v.name).sort());
    expect(siblings).toEqual(['float', 'fp16', 'int8', 'int8 (minmax, 100 samples)']);

    // Compare the real variants side by side (differences only).
    await variantPage.getByRole('button', { name: '← Back' }).click();
    await page.getByRole('button', { name: 'mnist-cnn', exact: true }).click();
    for (const name of ['fp16', 'int8', 'int8 (minmax, 100 samples)']) await page.getByRole('checkbox', { name: `Compare ${name}`, exact: true }).check();
    await page.getByRole('button', { name: 'Compare (3)' }).click();
    const compare = page.getByTestId('compare');
    await expect(compare).toContainText('minmax');
    await expect(compare).toContainText('float16');
    await shoot(page, 'compare-real');
  });

  test('(d) cancelling a running job leaves a cancelled job and no partial variant', async ({ page, app }) => {
    test.setTimeout(60_000);
    await page.getByRole('button', { name: 'Try the sample model' }).click();
    await expect(page.getByTestId('model-summary')).toBeVisible({ timeout: 20_000 });
    const modelName = await page.getByTestId('picked-model').textContent();
    const before = await withHistory((h) => h.listVariants({}).total);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Faster on CPU').click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: 'Dynamic range' }).uncheck();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const run = page.getByTestId('run-row');
    // Cancel while it runs (not merely queued): the worker has to stop cooperatively and store nothing.
    await expect(run).toHaveAttribute('data-state', 'running');
    await run.getByRole('button', { name: /^Cancel/ }).click();
    await expect(run).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
    await expect(run.getByText('Cancelled', { exact: true })).toBeVisible();
    // Through the history: the job is recorded as cancelled and nothing was stored (the pipeline writes only in its last stage).
    const job = await withHistory((h) => h.listJobs({}).find((j) => j.kind === 'optimize' && j.state !== 'completed'));
    expect(job?.state).toBe('cancelled');
    expect(await withHistory((h) => h.listVariants({}).total)).toBe(before);
    expect(modelName).toBeTruthy();
  });
});

