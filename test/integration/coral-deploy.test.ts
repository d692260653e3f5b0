/**
 * Deploy end to end against emulated sticks: DeviceService with the real history store (benchmarks stored only
 * on success), and the real CLI process with EDGEWISE_EMULATED_CORAL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHistory } from '../../main/history/index.ts';
import { sha256Hex } from '../../main/history/index.ts';
import { DeviceService } from '../../main/devices/service.ts';
import { EmulatedCoralStick, EmulatorBackend } from '../emulator/coral-stick.ts';
import { twinCompute } from '../emulator/compute.ts';

const CORAL = fileURLToPath(new URL('../../../shared/fixtures/coral/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'coral-deploy-'));
  const history = openHistory(dir);
  const twinPath = join(CORAL, 'split_concat.tflite');
  const compiledPath = join(CORAL, 'split_concat_edgetpu.tflite');
  const twin = new Uint8Array(readFileSync(twinPath));
  const model = history.addModel({ name: 'split_concat', format: 'tflite', path: twinPath, sha256: sha256Hex(twin) });
  const base = history.addVariant({ modelId: model.id, name: 'uint8', artifact: { source: twinPath, kind: 'tflite' } });
  const compiled = history.addVariant({ modelId: model.id, parentId: base.id, name: 'uint8 · Edge TPU', artifact: { source: compiledPath, kind: 'edgetpu-tflite' } });
  const good = new EmulatedCoralStick({ ports: [1] });
  const bad = new EmulatedCoralStick({ ports: [2], state: 'app' });
  for (const s of [good, bad]) s.addModel({ compiled: new Uint8Array(readFileSync(compiledPath)), compute: await twinCompute(twin) });
  const service = new DeviceService({ history, backend: new EmulatorBackend([good, bad]) });
  return { dir, history, service, compiled, good, bad, cleanup: () => { history.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('deploy a compiled variant: firmware, cold/warm latency, agreement with the CPU twin, stored benchmark', async () => {
  const { history, service, compiled, good, cleanup } = await setup();
  try {
    const before = await service.list();
    assert.deepEqual(before.map((d) => [d.path, d.state, d.usbId]), [['1-1', 'needs-firmware', '1a6e:089a'], ['1-2', 'ready', '18d1:9302']]);
    const r = await service.deploy({ variantId: compiled.id, device: good.path, runs: 20 });
    assert.equal(r.firmwareLoaded, true);
    assert.equal(r.agreement.checked, true);
    assert.equal(r.agreement.agree, true);
    assert.equal(r.agreement.maxAbsDiff, 0);
    assert.ok(r.coldMs >= r.warmP50Ms && r.warmP90Ms >= r.warmP50Ms && r.throughputPerSec > 0);
    const bench = history.benchmarksOf(compiled.id);
    assert.equal(bench.length, 1);
    assert.equal(bench[0]!.runtime, 'edgetpu-usb');
    assert.equal(bench[0]!.runs, 20);
    assert.equal((bench[0]!.environment as { linkSpeed: string }).linkSpeed, 'super');
    assert.equal((await service.list())[0]!.state, 'ready');
  } finally {
    cleanup();
  }
});

test('a fault during deploy ends in a clear error, no benchmark is stored, and the other stick still deploys', async () => {
  const { history, service, compiled, good, bad, cleanup } = await setup();
  try {
    bad.inject({ kind: 'fatal' });
    await assert.rejects(service.deploy({ variantId: compiled.id, device: bad.path, runs: 3 }), (e: Error & { code?: string }) => e.code === 'DEVICE' && /fatal error/.test(e.message));
    assert.equal(history.benchmarksOf(compiled.id).length, 0);
    const states = await service.list();
    assert.equal(states.find((d) => d.path === bad.path)!.state, 'error');
    const r = await service.deploy({ variantId: compiled.id, device: good.path, runs: 3 });
    assert.equal(r.agreement.agree, true);
    assert.equal(history.benchmarksOf(compiled.id).length, 1);
    // The faulted stick was reset and works again.
    await service.deploy({ variantId: compiled.id, device: bad.path, runs: 3 });
    assert.equal(history.benchmarksOf(compiled.id).length, 2);
  } finally {
    cleanup();
  }
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin/edgewise.js'), ...args], { env: { ...process.env, ...env }, cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('the real CLI with EDGEWISE_EMULATED_CORAL: devices and deploy --json', async () => {
  const home = mkdtempSync(join(tmpdir(), 'coral-cli-'));
  const env = {
    EDGEWISE_HOME: home,
    EDGEWISE_EMULATED_CORAL: 'super,high:app',
    EDGEWISE_EMULATED_CORAL_MODELS: `${join(CORAL, 'split_concat_edgetpu.tflite')}=${join(CORAL, 'split_concat.tflite')}`,
  };
  try {
    const d = await cli(['devices', '--json'], env);
    assert.equal(d.code, 0, d.stderr);
    const list = JSON.parse(d.stdout) as { devices: { path: string; state: string; linkSpeed: string }[] };
    assert.deepEqual(list.devices.map((x) => [x.path, x.state, x.linkSpeed]), [['1-1', 'needs-firmware', 'super'], ['1-2', 'ready', 'high']]);
    const r = await cli(['deploy', join(CORAL, 'split_concat_edgetpu.tflite'), '--device', '1-1', '--runs', '5', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { firmwareLoaded: boolean; agreement: { agree: boolean }; runs: number };
    assert.equal(res.firmwareLoaded, true);
    assert.equal(res.agreement.agree, true);
    assert.equal(res.runs, 5);
    const bad = await cli(['deploy', join(CORAL, 'split_concat.tflite'), '--json'], env);
    assert.equal(bad.code, 1);
    assert.match(JSON.parse(bad.stdout).error.message, /split_concat.tflite: has no edgetpu-custom-op/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
