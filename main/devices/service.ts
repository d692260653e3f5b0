/**
 * The Devices feature behind the API and the CLI: list Coral sticks (with state and link speed), subscribe to
 * hotplug changes, deploy a compiled model (firmware if needed → open → run → cold/warm latency → compare with
 * the CPU runtime → benchmark stored in the history), and a doctor listing what is missing with copyable fixes.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DeployArgs, DeployResult, DeviceSummary, DoctorCheck } from '../../preload/contract.ts';
import { getUsbBackend, isCoral, probeUsb, udevFix, watchDevices, type UsbBackend } from '../../native-bridges/usb.ts';
import type { History } from '../history/index.ts';
import { EdgeTpuDevice, EdgeTpuError, ensureFirmware, isOwned, prepareModel, unloadModel } from './edgetpu.ts';
import { describePartition, runtimeArray } from './partition.ts';
import { findFirmware, syntheticTestFirmware } from './firmware.ts';
import { findEdgeTpuCompiler } from './compiler.ts';
import { readEdgeTpuModel } from './package.ts';

export type { DeployArgs, DeployResult, DeviceSummary };

/**
 * pycoral's benchmark seeds its random input with 12345; we use a small deterministic generator the same way.
 * Integer tensors get random bytes; float tensors (inputs of a CPU part before the Edge TPU) values in [-1, 1).
 */
function randomInput(count: number, type: string, seed: number): Uint8Array {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  if (type === 'FLOAT32') {
    const f = new Float32Array(count);
    for (let i = 0; i < count; i++) f[i] = next() / 128 - 1;
    return new Uint8Array(f.buffer);
  }
  const b = new Uint8Array(count * (TYPE_BYTES[type] ?? 1));
  for (let i = 0; i < b.length; i++) b[i] = next();
  return b;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const TYPE_BYTES: Record<string, number> = { UINT8: 1, INT8: 1, INT16: 2, INT32: 4, FLOAT32: 4 };

export class DeviceService {
  private lastError = new Map<string, string>();
  private backendP: Promise<UsbBackend>;

  constructor(private readonly opts: { history?: History; backend?: UsbBackend } = {}) {
    this.backendP = opts.backend ? Promise.resolve(opts.backend) : getUsbBackend();
  }

  async list(): Promise<DeviceSummary[]> {
    const backend = await this.backendP;
    const devs = (await backend.list()).filter((d) => isCoral(d.info));
    return devs.map((d) => {
      const mode = isCoral(d.info);
      const state: DeviceSummary['state'] = isOwned(d.info.path) ? 'busy' : this.lastError.has(d.info.path) ? 'error' : mode === 'dfu' ? 'needs-firmware' : 'ready';
      let deviceId: string | undefined;
      try {
        deviceId = this.opts.history?.recordDevice({
          kind: 'coral-usb', portPath: d.info.path, vendorId: d.info.vendorId, productId: d.info.productId,
          firmwareState: mode === 'dfu' ? 'boot-rom' : 'loaded', linkSpeed: d.info.speed,
        }).id;
      } catch { /* history is optional for listing */ }
      const err = this.lastError.get(d.info.path);
      return {
        path: d.info.path,
        state,
        usbId: `${d.info.vendorId.toString(16).padStart(4, '0')}:${d.info.productId.toString(16).padStart(4, '0')}`,
        linkSpeed: d.info.speed,
        ...(deviceId ? { deviceId } : {}),
        ...(err ? { detail: err } : {}),
      };
    });
  }

  /** Debounced: one call per burst of attach/detach events (a DFU load re-enumerates twice). */
  subscribe(listener: () => void): () => void {
    let off: (() => void) | undefined;
    let stopped = false;
    void this.backendP.then((b) => {
      if (!stopped) off = watchDevices(b, () => listener());
    }).catch(() => undefined);
    return () => {
      stopped = true;
      off?.();
    };
  }

  async doctor(): Promise<DoctorCheck[]> {
    const checks: DoctorCheck[] = [];
    const usb = await probeUsb();
    checks.push({ name: 'USB access', ok: usb.ok, detail: usb.detail, ...(usb.fix ? { fix: usb.fix } : {}) });
    if (process.platform === 'linux') {
      const rule = findUdevRule();
      checks.push(rule ? { name: 'Coral udev rule', ok: true, detail: `both Coral USB IDs allowed by ${rule}` }
        : { name: 'Coral udev rule', ok: false, detail: 'No udev rule grants access to both Coral USB IDs (1a6e:089a and 18d1:9302).', fix: udevFix() });
    }
    try {
      const fw = findFirmware();
      checks.push({ name: 'Coral firmware', ok: !!fw.firmware, detail: fw.detail, ...(fw.fix ? { fix: fw.fix } : {}) });
    } catch (e) {
      checks.push({ name: 'Coral firmware', ok: false, detail: (e as Error).message, fix: (e as { hint?: string }).hint ?? '' });
    }
    const c = await findEdgeTpuCompiler();
    checks.push({ name: 'Edge TPU compiler', ok: c.found, detail: c.detail, ...(c.fix ? { fix: c.fix } : {}) });
    return checks;
  }

  /**
   * Loads firmware if needed, runs the model `runs` times, compares the first output with the CPU runtime, and
   * stores a benchmark of the variant (only when everything succeeded).
   */
  async deploy(args: DeployArgs, progress: (message: string) => void = () => {}): Promise<DeployResult> {
    const backend = await this.backendP;
    const { bytes, fileName, twin, variantId } = this.resolveModel(args);
    const model = readEdgeTpuModel(bytes, fileName);
    const loaded = prepareModel(model); // partitions and links: model errors surface before the stick is touched
    const sticks = (await backend.list()).filter((d) => isCoral(d.info));
    const path = args.device ?? sticks[0]?.info.path;
    if (!path) {
      const usb = await probeUsb();
      throw new EdgeTpuError(`No Coral USB Accelerator found (${usb.detail})`, usb.fix ?? 'Plug in the stick (use a USB 3 port), then run `edgewise devices`.', 'no-device');
    }
    const runs = Math.max(1, Math.min(10_000, args.runs ?? 50));
    const warnings: string[] = [];
    let dev: EdgeTpuDevice | undefined;
    try {
      progress(`Preparing the Coral stick at ${path}…`);
      const fw = await ensureFirmware(backend, path, () => this.firmwareBytes(args.firmware, backend));
      if (fw.loaded) progress(`Firmware loaded in ${fw.ms.toFixed(0)} ms.`);
      dev = await EdgeTpuDevice.open(backend, path, { onWarning: (w) => warnings.push(w) });
      const sg = model.tflite.subgraphs[0]!;
      const inputs = sg.inputs.map((ti, i) => {
        const t = sg.tensors[ti]!;
        return randomInput(t.shape.reduce((a, b) => a * b, 1), t.type, 12345 + i);
      });
      const segments = loaded.partition.segments;
      const cpuSegments = segments.filter((x) => x.kind === 'cpu').length;
      if (cpuSegments) progress(`${basename(fileName)} runs in ${segments.length} parts: ${describePartition(loaded.partition)}.`);
      progress(`Running ${basename(fileName)} ${runs + 1} times…`);
      let t0 = performance.now();
      const first = await dev.invoke(loaded, inputs);
      const coldMs = performance.now() - t0;
      const times: number[] = [];
      const cpuTimes: number[] = [];
      const tpuTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        t0 = performance.now();
        const r = await dev.invoke(loaded, inputs);
        times.push(performance.now() - t0);
        cpuTimes.push(r.cpuMs);
        tpuTimes.push(r.tpuMs);
      }
      await dev.close();
      dev = undefined;
      await unloadModel(loaded);
      const agreement = await compareWithCpu(twin, inputs, first.outputs);
      times.sort((a, b) => a - b);
      cpuTimes.sort((a, b) => a - b);
      tpuTimes.sort((a, b) => a - b);
      // CPU parts (TFLite runtime) and Edge TPU parts (USB round trips) timed separately; their sum ≤ the total.
      const parts: NonNullable<DeployResult['parts']> = {
        description: describePartition(loaded.partition),
        cpuSegments,
        tpuSegments: segments.length - cpuSegments,
        coldCpuMs: first.cpuMs,
        coldTpuMs: first.tpuMs,
        warmCpuP50Ms: percentile(cpuTimes, 50),
        warmTpuP50Ms: percentile(tpuTimes, 50),
      };
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const info = sticks.find((s) => s.info.path === path)?.info ?? (await backend.list()).find((s) => s.info.path === path)?.info;
      const result: DeployResult = {
        device: path,
        linkSpeed: info?.speed ?? 'unknown',
        model: fileName,
        ...(variantId ? { variantId } : {}),
        firmwareLoaded: fw.loaded,
        firmwareMs: fw.ms,
        runs,
        coldMs,
        warmMinMs: times[0]!,
        warmP50Ms: percentile(times, 50),
        warmP90Ms: percentile(times, 90),
        warmP99Ms: percentile(times, 99),
        throughputPerSec: 1000 / mean,
        agreement,
        warnings,
        parts,
      };
      this.lastError.delete(path);
      if (variantId && this.opts.history) {
        const deviceId = this.opts.history.recordDevice({ kind: 'coral-usb', portPath: path, vendorId: 0x18d1, productId: 0x9302, firmwareState: 'loaded', linkSpeed: result.linkSpeed }).id;
        result.benchmarkId = this.opts.history.addBenchmark(variantId, {
          runtime: 'edgetpu-usb', deviceId, coldMs, warmMinMs: result.warmMinMs, warmP50Ms: result.warmP50Ms, warmP90Ms: result.warmP90Ms, warmP99Ms: result.warmP99Ms, runs,
          environment: { linkSpeed: result.linkSpeed, devicePath: path, backend: backend.name, throughputPerSec: result.throughputPerSec, outputsAgree: agreement.agree, maxAbsDiff: agreement.maxAbsDiff, thermalWarnings: warnings.length, parts },
        }).id;
      }
      return result;
    } catch (e) {
      this.lastError.set(path, (e as Error).message);
      throw e;
    } finally {
      await dev?.close();
      await unloadModel(loaded);
    }
  }

  private firmwareBytes(file: string | undefined, backend: UsbBackend): Uint8Array {
    const found = findFirmware(file);
    if (found.firmware) return found.firmware.bytes;
    // Test-only: the emulator accepts any image (it checks the DFU protocol, not the 8051 code).
    if (backend.name === 'emulator') return syntheticTestFirmware();
    throw new EdgeTpuError(`The Coral stick needs its firmware loaded. ${found.detail}`, found.fix, 'needs-firmware');
  }

  private resolveModel(args: DeployArgs): { bytes: Uint8Array; fileName: string; twin?: Uint8Array; variantId?: string } {
    if (args.variantId) {
      const h = this.opts.history;
      if (!h) throw Object.assign(new Error('Deploying a variant needs the history store.'), { code: 'INTERNAL' });
      const v = h.getVariant(args.variantId);
      if (!v.artifact) throw Object.assign(new Error(`Variant ${v.id} ("${v.name}") has no model file.`), { code: 'NOT_FOUND' });
      const parent = v.parentId ? h.getVariant(v.parentId) : undefined;
      const twinPath = args.cpuTwin ?? parent?.artifact?.path;
      return {
        bytes: new Uint8Array(readFileSync(v.artifact.path)),
        fileName: `${v.name} (${basename(v.artifact.path)})`,
        ...(twinPath ? { twin: new Uint8Array(readFileSync(twinPath)) } : {}),
        variantId: v.id,
      };
    }
    if (!args.file) throw Object.assign(new Error('Give a variant id or a compiled model file (*_edgetpu.tflite).'), { code: 'INVALID_ARGUMENT' });
    if (!existsSync(args.file)) throw Object.assign(new Error(`${args.file} does not exist.`), { code: 'NOT_FOUND' });
    const sibling = join(dirname(args.file), basename(args.file).replace(/_edgetpu\.tflite$/i, '.tflite'));
    const twinPath = args.cpuTwin ?? (sibling !== args.file && existsSync(sibling) ? sibling : undefined);
    return { bytes: new Uint8Array(readFileSync(args.file)), fileName: args.file, ...(twinPath ? { twin: new Uint8Array(readFileSync(twinPath)) } : {}) };
  }
}

/**
 * Runs the CPU twin in the TFLite runtime on the same inputs. Integer outputs agree when every element is within
 * 1 quantization step; float outputs (after a CPU DEQUANTIZE) when every value is within one 8-bit step of the
 * output's range, (max − min) / 255 — what a 1-step difference on the Edge TPU becomes after dequantization.
 */
async function compareWithCpu(twin: Uint8Array | undefined, inputs: Uint8Array[], device: Uint8Array[]): Promise<DeployResult['agreement']> {
  if (!twin) return { checked: false, agree: false, maxAbsDiff: null, detail: 'No CPU model to compare with (give --cpu-twin, or deploy a compiled variant whose parent is the uncompiled model).' };
  const { TfliteInterpreter } = await import('../../native-bridges/tflite-runtime.ts');
  const cpu = await TfliteInterpreter.create(twin);
  try {
    if (cpu.inputs.length !== inputs.length || cpu.outputs.length !== device.length)
      return { checked: true, agree: false, maxAbsDiff: null, detail: `the CPU model has ${cpu.inputs.length} input(s) and ${cpu.outputs.length} output(s), the compiled model ${inputs.length} and ${device.length}` };
    inputs.forEach((b, i) => cpu.setInput(i, runtimeArray(cpu.inputs[i]!.dtype, b)));
    cpu.invoke();
    let max = 0;
    let agree = true;
    device.forEach((d, i) => {
      const dtype = cpu.outputs[i]!.dtype;
      const c = cpu.output(i);
      if (d.length !== c.byteLength) {
        max = Infinity;
        agree = false;
        return;
      }
      const dv = runtimeArray(dtype, d);
      let lo = Infinity;
      let hi = -Infinity;
      let diff = 0;
      for (let k = 0; k < c.length; k++) {
        const x = Number(c[k]!);
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
        diff = Math.max(diff, Math.abs(Number(dv[k]!) - x));
      }
      const tolerance = dtype === 'float32' ? (hi - lo) / 255 + 1e-6 : 1;
      if (!(diff <= tolerance)) agree = false;
      max = Math.max(max, diff);
    });
    return {
      checked: true, agree, maxAbsDiff: Number.isFinite(max) ? max : null,
      detail: agree ? `device outputs equal the CPU runtime's within ${max} (quantization steps for integer outputs)` : `device outputs differ from the CPU runtime's by up to ${max}`,
    };
  } finally {
    cpu.dispose();
  }
}

function findUdevRule(): string | undefined {
  for (const dir of ['/etc/udev/rules.d', '/lib/udev/rules.d', '/usr/lib/udev/rules.d']) {
    let files: string[] = [];
    try { files = readdirSync(dir); } catch { continue; }
    for (const f of files) {
      try {
        const t = readFileSync(join(dir, f), 'utf8').toLowerCase();
        if (t.includes('1a6e') && t.includes('18d1') && (t.includes('9302') || !t.includes('idproduct'))) return join(dir, f);
      } catch { /* unreadable */ }
    }
  }
  return undefined;
}
