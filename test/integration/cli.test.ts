// The `edgewise` command as users run it: a real process over a real history in a temp data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHistory } from '../../main/history/index.ts';

const bin = fileURLToPath(new URL('../../bin/edgewise.js', import.meta.url));

function edgewise(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, EDGEWISE_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

test('doctor --json reports every check truthfully and names the data folder', () => {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-cli-'));
  try {
    const r = edgewise(home, 'doctor', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = r.json();
    assert.deepEqual(
      report.checks.map((c: { name: string }) => c.name),
      ['Compute backend', 'TFLite runtime', 'USB access', 'Edge TPU compiler', 'History database'],
    );
    assert.equal(report.dataDir, home);
    // The TFLite runtime and a compute backend really load on every machine we support.
    assert.ok(report.checks.find((c: { name: string }) => c.name === 'TFLite runtime').ok);
    assert.ok(['wasm', 'cpu', 'tensorflow'].includes(report.compute.selected));
    for (const c of report.checks) if (!c.ok) assert.ok(c.fix, `failed check "${c.name}" must say how to fix it`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('history list and show read what the store holds, with lineage', () => {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-cli-'));
  try {
    const store = openHistory(home);
    const model = store.addModel({ name: 'mnist-cnn', format: 'tfjs-layers', path: '/models/mnist/model.json', sha256: 'ab'.repeat(32), parameterCount: 1234 });
    const fp16 = store.addVariant({ modelId: model.id, name: 'fp16', recipe: { technique: 'fp16' }, status: 'ready', artifact: { source: new Uint8Array(100), kind: 'tflite' } });
    const child = store.addVariant({ modelId: model.id, parentId: fp16.id, name: 'fp16 → pruned', status: 'ready', metrics: [{ name: 'accuracy', value: 0.987 }] });
    store.close();

    const list = edgewise(home, 'history', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.json().totalModels, 1);
    assert.equal(list.json().totalVariants, 2);

    const shown = edgewise(home, 'history', 'show', child.id, '--json').json();
    assert.equal(shown.kind, 'variant');
    assert.deepEqual(shown.lineage.map((v: { id: string }) => v.id), [fp16.id]);
    assert.equal(shown.variant.metrics[0].value, 0.987);

    const human = edgewise(home, 'history', 'show', model.id);
    assert.match(human.stdout, /mnist-cnn/);
    assert.match(human.stdout, /fp16 → pruned/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('errors exit non-zero with a readable message, also as JSON', () => {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-cli-'));
  try {
    const missing = edgewise(home, 'history', 'show', 'no-such-id', '--json');
    assert.equal(missing.code, 1);
    assert.equal(missing.json().error.code, 'NOT_FOUND');
    assert.match(missing.stderr, /no-such-id/);

    const unknown = edgewise(home, 'frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);

    const badFlag = edgewise(home, 'history', 'list', '--nope');
    assert.equal(badFlag.code, 2);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('convert writes a .tflite the runtime loads and records model and variant in the history', async () => {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-cli-'));
  try {
    const source = fileURLToPath(new URL('../../../shared/fixtures/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url));
    const out = join(home, 'out', 'model.tflite');
    const r = edgewise(home, 'convert', source, '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const result = r.json();
    const { TfliteInterpreter } = await import('../../native-bridges/tflite-runtime.ts');
    const { readFileSync } = await import('node:fs');
    const interp = await TfliteInterpreter.create(new Uint8Array(readFileSync(out)));
    interp.dispose();

    const store = openHistory(home);
    try {
      const variant = store.getVariant(result.variantId);
      assert.equal(variant.modelId, result.modelId);
      assert.equal(variant.artifact?.size, result.bytes);
      assert.equal(store.getModel(result.modelId).format, 'tflite');
    } finally {
      store.close();
    }
    // Converting the same file again reuses the model row.
    assert.equal(edgewise(home, 'convert', source, '--out', out, '--json').json().modelId, result.modelId);

    const bad = edgewise(home, 'convert', fileURLToPath(import.meta.url), '--out', out, '--json');
    assert.equal(bad.code, 1);
    assert.equal(bad.json().error.code, 'BAD_MODEL');
    assert.match(bad.json().error.message, /cli\.test\.ts/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('inspect --edgetpu predicts the mapping per op with totals', () => {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-cli-'));
  try {
    const source = fileURLToPath(new URL('../../../shared/fixtures/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url));
    const r = edgewise(home, 'inspect', source, '--edgetpu', '--json');
    assert.equal(r.code, 0, r.stderr);
    const { edgetpu, opHistogram } = r.json();
    assert.equal(edgetpu.ops.length, 31);
    assert.equal(edgetpu.mappedCount + edgetpu.cpuCount, 31);
    assert.equal(opHistogram.CONV_2D, 15, 'the normal inspection is still there');
    const human = edgewise(home, 'inspect', source, '--edgetpu');
    assert.match(human.stdout, /31 of 31 ops predicted on the Edge TPU/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
