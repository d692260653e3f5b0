/**
 * Compiled models with ops on the CPU around and between Edge TPU ops (built from the real fixtures, see
 * test/emulator/mixed-models.ts): the driver runs the CPU parts in the TFLite runtime and the Edge TPU parts on the
 * emulated stick; the result must equal the CPU-only equivalent model run as a whole in the TFLite runtime.
 * Then deploy end to end through DeviceService (benchmark stored, CPU and TPU time separate) and the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { EmulatedCoralStick, EmulatorBackend } from '../emulator/coral-stick.ts';
import { twinCompute } from '../emulator/compute.ts';
import { CORAL_FIXTURES, mixedModels, type MixedModel } from '../emulator/mixed-models.ts';
import { EdgeTpuDevice, EdgeTpuError, ensureFirmware, unloadModel } from '../../main/devices/edgetpu.ts';
import { syntheticTestFirmware } from '../../main/devices/firmware.ts';
import { runtimeArray, runtimeBytes } from '../../main/devices/partition.ts';
import { DeviceService } from '../../main/devices/service.ts';
import { openHistory, sha256Hex } from '../../main/history/index.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const coralPath = (name: string) => fileURLToPath(new URL(name, CORAL_FIXTURES));
const MODELS = mixedModels();
const byName = (n: string) => MODELS.find((m) => m.name === n)!;

/** A stick that can run the Edge TPU ops of `m` (recognised by instruction stream, computed by their twins). */
async function stickFor(m: MixedModel, opts: ConstructorParameters<typeof EmulatedCoralStick>[0] = {}) {
  const stick = new EmulatedCoralStick({ state: 'app', ...opts });
  for (const [compiled, twin] of m.twins)
    stick.addModel({ compiled: new Uint8Array(readFileSync(coralPath(compiled))), fileName: compiled, compute: await twinCompute(new Uint8Array(readFileSync(coralPath(twin)))) });
  return stick;
}

/** Float inputs in [-1, 1), integer inputs as a byte pattern; different per seed. */
function inputsFor(cpu: TfliteInterpreter, seed: number): Uint8Array[] {
  return cpu.inputs.map((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype === 'float32') return runtimeBytes(Float32Array.from({ length: n }, (_, k) => (((k * 31 + i * 7 + seed * 53) % 256) / 128) - 1));
    return Uint8Array.from({ length: n }, (_, k) => (k * 37 + i * 11 + seed * 101) & 255);
  });
}

function cpuRun(cpu: TfliteInterpreter, inputs: Uint8Array[]): Uint8Array[] {
  inputs.forEach((b, i) => cpu.setInput(i, runtimeArray(cpu.inputs[i]!.dtype, b)));
  cpu.invoke();
  return cpu.outputs.map((_, i) => runtimeBytes(cpu.output(i)).slice());
}

for (const m of MODELS) {
  test(`${m.name}: CPU parts in the TFLite runtime + Edge TPU parts on the stick = the CPU-only model, byte for byte`, async () => {
    const stick = await stickFor(m);
    const backend = new EmulatorBackend([stick]);
    const dev = await EdgeTpuDevice.open(backend, stick.path, { timeoutMs: 2000 });
    const loaded = dev.loadModel(m.compiled, `${m.name}_edgetpu.tflite`);
    const reference = await TfliteInterpreter.create(m.reference);
    const tpuOps = m.twins.length;
    try {
      assert.equal(loaded.tpu.length, tpuOps);
      assert.deepEqual(loaded.inputNames, reference.inputs.map((t) => t.name));
      for (let run = 0; run < 3; run++) {
        const inputs = inputsFor(reference, run);
        const res = await dev.invoke(loaded, inputs);
        const want = cpuRun(reference, inputs);
        assert.equal(res.outputs.length, want.length);
        res.outputs.forEach((o, i) => assert.deepEqual(o, want[i], `${m.name} output ${loaded.outputNames[i]} run ${run}`));
        assert.ok(res.cpuMs > 0 && res.tpuMs > 0, `cpu ${res.cpuMs} ms, tpu ${res.tpuMs} ms`);
        // One Edge TPU op keeps its parameters cached; two separately compiled ops evict each other every call.
        assert.equal(res.cachedParameters, run === 0 || tpuOps > 1);
      }
      // Make sure the check can fail: a different input gives different outputs.
      const other = await dev.invoke(loaded, inputsFor(reference, 9));
      assert.notDeepEqual(other.outputs[0], cpuRun(reference, inputsFor(reference, 0))[0]);
    } finally {
      reference.dispose();
      await unloadModel(loaded);
      await dev.close();
    }
    assert.equal(stick.stats.executions, 4 * tpuOps);
    assert.equal(stick.stats.cachingRuns, tpuOps === 1 ? 1 : 4 * tpuOps);
    assert.equal(stick.stats.cacheMisses, 0);
    assert.equal(stick.stats.fatalErrors, 0, stick.lastFatal);
  });
}

test('a CPU part the runtime cannot run is reported with the file and op, without resetting the stick', async () => {
  const m = byName('mobilenet_around');
  const stick = await stickFor(m);
  const backend = new EmulatorBackend([stick]);
  const dev = await EdgeTpuDevice.open(backend, stick.path, { timeoutMs: 2000 });
  try {
    const loaded = dev.loadModel(m.compiled, 'broken_edgetpu.tflite');
    // Corrupt the first CPU part: the runtime has no op "NOT_AN_OP".
    const seg = loaded.partition.segments[0]!;
    assert.equal(seg.kind, 'cpu');
    const { readTflite } = await import('../../main/tflite/reader.ts');
    const { writeTflite } = await import('../../main/tflite/writer.ts');
    const t = readTflite(seg.kind === 'cpu' ? seg.tflite : new Uint8Array(), 'segment');
    t.operatorCodes[0] = { builtin: 'CUSTOM', builtinCode: 32, customCode: 'NOT_AN_OP', version: 1 };
    t.subgraphs[0]!.operators[0]!.builtinOptions = null;
    if (seg.kind === 'cpu') seg.tflite = writeTflite(t);
    const reference = await TfliteInterpreter.create(m.reference);
    const inputs = inputsFor(reference, 0);
    reference.dispose();
    await assert.rejects(dev.invoke(loaded, inputs), (e: EdgeTpuError) => e.kind === 'unsupported' && /broken_edgetpu\.tflite: the CPU part \(1 op: QUANTIZE\)/.test(e.message) && /NOT_AN_OP/.test(e.message));
    // The stick was not touched by the failure and still runs a good model.
    const good = dev.loadModel(m.compiled, 'good_edgetpu.tflite');
    const r = await dev.invoke(good, inputs);
    assert.equal(r.outputs.length, 2);
    await unloadModel(good);
  } finally {
    await dev.close();
  }
});

test('deploy a mixed model through DeviceService: agreement with the CPU-only model, benchmark with CPU and TPU time apart', async () => {
  const m = byName('two_edgetpu_ops');
  const dir = mkdtempSync(join(tmpdir(), 'coral-mixed-'));
  const history = openHistory(dir);
  try {
    const refPath = join(dir, 'two_ops.tflite');
    const compiledPath = join(dir, 'two_ops_edgetpu.tflite');
    writeFileSync(refPath, m.reference);
    writeFileSync(compiledPath, m.compiled);
    const model = history.addModel({ name: 'two_ops', format: 'tflite', path: refPath, sha256: sha256Hex(m.reference) });
    const base = history.addVariant({ modelId: model.id, name: 'uint8', artifact: { source: refPath, kind: 'tflite' } });
    const compiled = history.addVariant({ modelId: model.id, parentId: base.id, name: 'uint8 · Edge TPU', artifact: { source: compiledPath, kind: 'edgetpu-tflite' } });
    const stick = await stickFor(m, { state: 'dfu', speed: 'high' });
    const service = new DeviceService({ history, backend: new EmulatorBackend([stick]) });
    const messages: string[] = [];
    const r = await service.deploy({ variantId: compiled.id, runs: 5 }, (x) => messages.push(x));
    assert.ok(messages.some((x) => /5 parts: CPU: QUANTIZE → Edge TPU → CPU: SLICE, RESHAPE → Edge TPU → CPU: CONCATENATION, DEQUANTIZE/.test(x)), messages.join('\n'));
    assert.equal(r.agreement.checked, true);
    assert.equal(r.agreement.agree, true, r.agreement.detail);
    assert.equal(r.agreement.maxAbsDiff, 0);
    assert.equal(r.linkSpeed, 'high');
    const p = r.parts!;
    assert.equal(p.cpuSegments, 3);
    assert.equal(p.tpuSegments, 2);
    assert.ok(p.warmCpuP50Ms > 0 && p.warmTpuP50Ms > 0 && p.warmCpuP50Ms + p.warmTpuP50Ms <= r.warmP90Ms + 1);
    const [bench] = history.benchmarksOf(compiled.id);
    assert.equal(bench!.runtime, 'edgetpu-usb');
    const env = bench!.environment as { parts: typeof p; outputsAgree: boolean };
    assert.equal(env.outputsAgree, true);
    assert.deepEqual(env.parts, p);
  } finally {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin/edgewise.js'), ...args], { env: { ...process.env, ...env }, cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('the real CLI deploys a mixed variant on an emulated stick and stores the benchmark', async () => {
  const m = byName('mobilenet_around');
  const home = mkdtempSync(join(tmpdir(), 'coral-mixed-cli-'));
  try {
    const refPath = join(home, 'mnet_around.tflite');
    const compiledPath = join(home, 'mnet_around_edgetpu.tflite');
    writeFileSync(refPath, m.reference);
    writeFileSync(compiledPath, m.compiled);
    let variantId: string;
    {
      const history = openHistory(home);
      const model = history.addModel({ name: 'mnet_around', format: 'tflite', path: refPath, sha256: sha256Hex(m.reference) });
      const base = history.addVariant({ modelId: model.id, name: 'uint8', artifact: { source: refPath, kind: 'tflite' } });
      variantId = history.addVariant({ modelId: model.id, parentId: base.id, name: 'uint8 · Edge TPU', artifact: { source: compiledPath, kind: 'edgetpu-tflite' } }).id;
      history.close();
    }
    const env = {
      EDGEWISE_HOME: home,
      EDGEWISE_EMULATED_CORAL: 'super',
      // The stick recognises the mixed model's Edge TPU op by its instruction stream and computes it with the twin.
      EDGEWISE_EMULATED_CORAL_MODELS: m.twins.map(([c, t]) => `${coralPath(c)}=${coralPath(t)}`).join(';'),
    };
    const r = await cli(['deploy', variantId, '--runs', '5', '--json'], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const res = JSON.parse(r.stdout) as { agreement: { agree: boolean; maxAbsDiff: number }; parts: { cpuSegments: number; tpuSegments: number; warmCpuP50Ms: number }; benchmarkId: string };
    assert.equal(res.agreement.agree, true);
    assert.equal(res.agreement.maxAbsDiff, 0);
    assert.deepEqual([res.parts.cpuSegments, res.parts.tpuSegments], [2, 1]);
    assert.ok(res.benchmarkId);
    const text = await cli(['deploy', compiledPath, '--runs', '2'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /parts: CPU: QUANTIZE → Edge TPU → CPU: DEQUANTIZE, MUL; warm p50 CPU [\d.]+ ms \+ Edge TPU [\d.]+ ms/);
    assert.match(text.stdout, /outputs vs CPU runtime: agree/);
    const history = openHistory(home);
    try {
      const [bench] = history.benchmarksOf(variantId);
      assert.equal(bench!.id, res.benchmarkId);
      assert.equal((bench!.environment as { parts: { cpuSegments: number } }).parts.cpuSegments, 2);
    } finally {
      history.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
