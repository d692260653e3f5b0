// Settings: defaults, merge-and-save, validation naming the field, damaged files named, API round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, loadSettings, saveSettings, SETTINGS_FILE } from '../../../main/settings.ts';
import { createServices } from '../../../main/api/services.ts';
import { createApi } from '../../../main/api/index.ts';

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-settings-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

test('defaults when absent; set merges, validates and persists', () => {
  using t = tempDir();
  assert.deepEqual(loadSettings(t.dir), DEFAULT_SETTINGS);
  const s = saveSettings(t.dir, { threads: 2, computeBackend: 'wasm' });
  assert.equal(s.threads, 2);
  assert.equal(s.defaultCalibrationMethod, DEFAULT_SETTINGS.defaultCalibrationMethod);
  assert.deepEqual(loadSettings(t.dir), s);
  assert.deepEqual(JSON.parse(readFileSync(join(t.dir, SETTINGS_FILE), 'utf8')), s);
  assert.equal(saveSettings(t.dir, { threads: null }).threads, null);
  assert.throws(() => saveSettings(t.dir, { threads: 0 }), /settings: threads: Too small/);
  assert.throws(() => saveSettings(t.dir, { computeBackend: 'gpu' as never }), /computeBackend/);
});

test('a damaged file is an error naming it, not silently reset', () => {
  using t = tempDir();
  const file = join(t.dir, SETTINGS_FILE);
  writeFileSync(file, '{ "threads": 2,');
  assert.throws(() => loadSettings(t.dir), (e: Error & { hint?: string }) => e.message.startsWith(`${file} is not valid JSON`) && /delete it/.test(e.hint ?? ''));
  writeFileSync(file, JSON.stringify({ version: 1, threads: -3 }));
  assert.throws(() => loadSettings(t.dir), new RegExp(`${file}: threads: Too small`));
});

test('settings.get / settings.set through the API', async () => {
  using t = tempDir();
  const services = createServices({ dataDir: t.dir });
  try {
    const api = createApi(services);
    const got = await api.handlers['settings.get']({});
    assert.deepEqual(got, { ok: true, value: DEFAULT_SETTINGS });
    const set = await api.handlers['settings.set']({ maxAccuracyDropPoints: 0.5, defaultGoal: 'edgetpu' });
    assert.ok(set.ok);
    assert.equal(set.value.defaultGoal, 'edgetpu');
    const bad = await api.handlers['settings.set']({ version: 2 } as never);
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, 'INVALID_ARGUMENT');
  } finally {
    await services.close();
  }
});
