/**
 * Our Edge TPU USB driver (no libedgetpu): DFU firmware load, the open/close CSR sequences exactly as the
 * official runtime issues them (checked against the captured trace), and running compiled models by linking
 * their instruction streams and replaying their DMA hints over the single bulk-out endpoint.
 *
 * Safety rules (unlike libedgetpu, which aborts the process): every wait has a timeout; a device that stops
 * answering or raises a fatal interrupt is port-reset and reported with an Error; one owner per device.
 */
import { UsbError, isCoral, type UsbBackend, type UsbDevice, type UsbDeviceHandle, type UsbDeviceInfo } from '../../native-bridges/usb.ts';
import {
  CORE_RUN_CONTROLS, CSR, DFU, EP, INT, MAX_BULK_OUT, PERFORMANCE_CLOCKS, SCU3, TAG, TILE_RUN_CONTROLS, TOP_LEVEL_INT_CONTROLS,
  csrSetup, decodeEvent, encodeHeader, field, setField, type Performance,
} from './protocol.ts';
import { readEdgeTpuModel, type BufferKind, type EdgeTpuCustomOp, type EdgeTpuModel, type Executable } from './package.ts';
import { fromDeviceOutput, toDeviceInput } from './layers.ts';
import { CpuSegmentRunner, partitionModel, type Partition, type TpuSegment } from './partition.ts';

export class EdgeTpuError extends Error {
  readonly code = 'DEVICE';
  constructor(message: string, readonly hint?: string, readonly kind: string = 'device') {
    super(message);
    this.name = 'EdgeTpuError';
  }
}

export interface DriverOptions {
  /** Per-transfer timeout (libedgetpu's USB_TIMEOUT_MILLIS default is 6000). */
  timeoutMs?: number;
  performance?: Performance;
  /** How long to wait for the stick to come back after a port reset. */
  reenumerateTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

const DEFAULT_TIMEOUT = 6000;
const POLL_LIMIT = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a device with the wanted identity shows up at `path` (after a reset or DFU). */
export async function waitForDevice(backend: UsbBackend, path: string, want: 'app' | 'dfu' | 'any', timeoutMs: number): Promise<UsbDevice> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = (await backend.list()).find((x) => x.info.path === path && (want === 'any' ? isCoral(x.info) : isCoral(x.info) === want));
    if (d) return d;
    if (Date.now() > deadline)
      throw new EdgeTpuError(`The Coral stick at ${path} did not come back${want === 'any' ? '' : ` in ${want === 'app' ? 'application' : 'DFU'} mode`} within ${timeoutMs} ms.`, 'Re-plug the stick and retry.', 'no-device');
    await sleep(50);
  }
}

// ---- DFU -------------------------------------------------------------------------------------------------------------

/** Parses a configuration descriptor for the DFU interface (class 0xFE/0x01) and its wTransferSize. */
export function findDfuInterface(config: Uint8Array): { iface: number; transferSize: number } | undefined {
  let iface: number | undefined;
  for (let o = 0; o + 2 <= config.length && config[o]! > 0; o += config[o]!) {
    const type = config[o + 1];
    if (type === 4 && config[o + 5] === 0xfe && config[o + 6] === 0x01) iface = config[o + 2];
    if (type === 0x21 && iface !== undefined) return { iface, transferSize: config[o + 5]! | (config[o + 6]! << 8) };
  }
  return iface === undefined ? undefined : { iface, transferSize: DFU.TRANSFER_SIZE };
}

/** DFU 1.1 download + read-back verification on an opened boot-ROM device. Does not reset. */
export async function downloadFirmware(h: UsbDeviceHandle, firmware: Uint8Array, timeoutMs = DEFAULT_TIMEOUT, onProgress?: (done: number, total: number) => void): Promise<void> {
  const path = h.info.path;
  const config = await h.controlIn({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0 }, 255, timeoutMs);
  const dfu = findDfuInterface(config);
  if (!dfu) throw new EdgeTpuError(`The device at ${path} has no DFU interface; it is not a Coral stick in boot mode.`);
  await h.claimInterface(dfu.iface);
  const size = Math.min(dfu.transferSize || DFU.TRANSFER_SIZE, DFU.TRANSFER_SIZE);
  const status = async (what: string) => {
    const s = await h.controlIn({ bmRequestType: DFU.IN, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: dfu.iface }, 6, timeoutMs);
    if (s.length < 6) throw new EdgeTpuError(`DFU GETSTATUS after ${what} on ${path} returned ${s.length} bytes.`);
    return { status: s[0]!, state: s[4]! };
  };
  const blocks = Math.ceil(firmware.length / size);
  for (let b = 0; b < blocks; b++) {
    const chunk = firmware.subarray(b * size, (b + 1) * size);
    await h.controlOut({ bmRequestType: DFU.OUT, bRequest: DFU.DNLOAD, wValue: b & 0xffff, wIndex: dfu.iface }, chunk, timeoutMs);
    const s = await status(`block ${b}`);
    if (s.status !== 0 || s.state !== DFU.STATE_DNLOAD_IDLE)
      throw new EdgeTpuError(`Firmware download failed on ${path}: block ${b} answered status ${s.status}, state ${s.state} (expected 0, ${DFU.STATE_DNLOAD_IDLE}).`, 'Re-plug the stick and retry.');
    onProgress?.(b + 1, blocks);
  }
  await h.controlOut({ bmRequestType: DFU.OUT, bRequest: DFU.DNLOAD, wValue: blocks & 0xffff, wIndex: dfu.iface }, new Uint8Array(0), timeoutMs);
  const end = await status('the final zero-length block');
  if (end.status !== 0 || end.state !== DFU.STATE_IDLE)
    throw new EdgeTpuError(`Firmware download failed on ${path}: after the last block the stick is in state ${end.state} with status ${end.status} (expected dfuIDLE 2, OK).`, 'Re-plug the stick and retry.');
  // Verify: UPLOAD until a short packet, compare the image-length prefix.
  const back: number[] = [];
  for (let b = 0; back.length < firmware.length + size; b++) {
    const part = await h.controlIn({ bmRequestType: DFU.IN, bRequest: DFU.UPLOAD, wValue: b & 0xffff, wIndex: dfu.iface }, size, timeoutMs);
    back.push(...part);
    if (part.length < size) break;
  }
  for (let i = 0; i < firmware.length; i++)
    if (back[i] !== firmware[i]) throw new EdgeTpuError(`Firmware verification failed on ${path}: byte ${i} reads back ${back[i]} instead of ${firmware[i]}.`, 'Re-plug the stick and retry.');
}

/**
 * Brings the stick at `path` into application mode: nothing to do if it already runs firmware; otherwise DFU
 * download, verify, port reset, wait for 18d1:9302 at the same port.
 */
export async function ensureFirmware(backend: UsbBackend, path: string, firmware: (() => Uint8Array) | undefined, opts: DriverOptions = {}): Promise<{ loaded: boolean; ms: number }> {
  const t0 = performance.now();
  const dev = await waitForDevice(backend, path, 'any', 0).catch(() => undefined);
  if (!dev) throw new EdgeTpuError(`No Coral stick at ${path}.`, 'Run `edgewise devices` to see the connected sticks.', 'no-device');
  if (isCoral(dev.info) === 'app') return { loaded: false, ms: 0 };
  if (!firmware) throw new EdgeTpuError(`The Coral stick at ${path} needs its firmware loaded, and no firmware image is available.`, undefined, 'needs-firmware');
  const image = firmware();
  const h = await dev.open();
  try {
    await downloadFirmware(h, image, opts.timeoutMs ?? DEFAULT_TIMEOUT);
    await h.reset();
  } finally {
    await h.close();
  }
  await waitForDevice(backend, path, 'app', opts.reenumerateTimeoutMs ?? 5000);
  return { loaded: true, ms: performance.now() - t0 };
}

// ---- Application mode ------------------------------------------------------------------------------------------------

/** Synthetic device addresses for host buffers: kind in bits 40+, layer index in bits 32-39, offset below. */
const KIND_CODE: Record<BufferKind | 'instructions', bigint> = { output: 1n, input: 2n, parameter: 3n, scratch: 4n, instructions: 5n };
function baseAddress(kind: BufferKind, index: number): bigint {
  return (KIND_CODE[kind] << 40n) | (BigInt(index & 0xff) << 32n);
}

function writeBits32(b: Uint8Array, bit: number, value: number): void {
  for (let i = 0; i < 32; i++) {
    const p = bit + i;
    if ((value >>> i) & 1) b[p >> 3]! |= 1 << (p & 7);
    else b[p >> 3]! &= ~(1 << (p & 7));
  }
}

function layerIndex(exe: Executable, kind: BufferKind, name: string | undefined): number {
  if (kind === 'input') return Math.max(0, exe.inputLayers.findIndex((l) => l.name === name));
  if (kind === 'output') return Math.max(0, exe.outputLayers.findIndex((l) => l.name === name));
  return 0;
}

/** Patches every relocation with the lower or upper 32 bits of its buffer's base address. */
export function linkExecutable(exe: Executable): Uint8Array[] {
  return exe.bitstreams.map((b) => {
    const out = b.bitstream.slice();
    for (const f of b.fieldOffsets) {
      const addr = baseAddress(f.meta.desc, layerIndex(exe, f.meta.desc, f.meta.name));
      writeBits32(out, f.offsetBit, Number(f.meta.position === 1 ? (addr >> 32n) & 0xffffffffn : addr & 0xffffffffn));
    }
    return out;
  });
}

/** One Edge TPU op of a loaded model: its linked executables and the state its inputs keep between calls. */
export interface LoadedTpuPart {
  segment: TpuSegment;
  main: { exe: Executable; instructions: Uint8Array[] };
  caching?: { exe: Executable; instructions: Uint8Array[] };
  /** Custom-op inputs not computed at run time (constants, LSTM state): current bytes by input layer name. */
  state: Map<string, Uint8Array>;
}

export interface LoadedEdgeTpuModel {
  model: EdgeTpuModel;
  /** The first (usually the only) Edge TPU op. */
  op: EdgeTpuCustomOp;
  /** CPU and TPU segments in execution order (a single TPU segment for fully mapped models). */
  partition: Partition;
  /** The TPU segments' executables, in segment order. */
  tpu: LoadedTpuPart[];
  /** Graph input tensor names (what `invoke` takes, in order) and output names (what it returns). */
  inputNames: string[];
  outputNames: string[];
  /** CPU segments in the TFLite runtime, created on the first `invoke`; freed by `unloadModel`. */
  cpu?: Promise<CpuSegmentRunner[]>;
}

export interface InvokeResult {
  outputs: Uint8Array[];
  /** True when this call (re)loaded the cached parameters (the "cold" part of a first inference). */
  cachedParameters: boolean;
  /** Wall time in the CPU segments (TFLite runtime) and in the Edge TPU segments (USB round trips) of this call. */
  cpuMs: number;
  tpuMs: number;
}

/** Devices owned by this process: path → owner. A second open is refused instead of resetting the first. */
const owners = new Map<string, EdgeTpuDevice>();

/** True while this process holds the stick at `path` (the Devices screen shows it as busy). */
export function isOwned(path: string): boolean {
  return owners.has(path);
}

export class EdgeTpuDevice {
  private closed = false;
  private fault: EdgeTpuError | undefined;
  private faultWaiters = new Set<(e: EdgeTpuError) => void>();
  private monitor: Promise<void> | undefined;
  private cachedToken = 0n;
  /** Caching executables whose parameters are in SRAM under `cachedToken` (co-compiled models share a token). */
  private cachedExes = new Set<Executable>();
  private descriptorsOn = false;
  private busy: Promise<unknown> = Promise.resolve();
  thermalWarnings = 0;
  /** Control transfers of the last open/close, for conformance checks. */
  readonly timeoutMs: number;

  private constructor(private readonly backend: UsbBackend, private h: UsbDeviceHandle, readonly info: UsbDeviceInfo, private readonly opts: DriverOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT;
  }

  get path(): string {
    return this.info.path;
  }

  /**
   * Opens a stick already in application mode (call `ensureFirmware` first): claim interface 0, run the open
   * sequence, arm the interrupt endpoint.
   */
  static async open(backend: UsbBackend, path: string, opts: DriverOptions = {}): Promise<EdgeTpuDevice> {
    if (owners.has(path)) throw new EdgeTpuError(`The Coral stick at ${path} is already in use by this Edgewise process.`, 'Wait for the running deployment to finish.', 'busy');
    const dev = (await backend.list()).find((d) => d.info.path === path);
    if (!dev) throw new EdgeTpuError(`No Coral stick at ${path}.`, 'Run `edgewise devices` to see the connected sticks.', 'no-device');
    if (isCoral(dev.info) !== 'app') throw new EdgeTpuError(`The Coral stick at ${path} has no firmware loaded yet.`, undefined, 'needs-firmware');
    const h = await dev.open();
    const d = new EdgeTpuDevice(backend, h, dev.info, opts);
    owners.set(path, d);
    try {
      await h.controlIn({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0 }, 18, d.timeoutMs);
      await h.claimInterface(0);
      await d.openSequence();
    } catch (e) {
      owners.delete(path);
      await h.close();
      throw e;
    }
    d.monitor = d.watchInterrupts();
    return d;
  }

  // ---- CSR access --------------------------------------------------------------------------------------------------

  async readCsr(addr: number): Promise<number> {
    const s = csrSetup(addr, false);
    const b = await this.h.controlIn(s, s.bRequest === 1 ? 4 : 8, this.timeoutMs);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b.length === 4) return v.getUint32(0, true);
    if (b.length === 8) return Number(v.getBigUint64(0, true) & 0xffffffffffffn);
    throw new EdgeTpuError(`CSR 0x${addr.toString(16)} read returned ${b.length} bytes on ${this.path}.`);
  }

  async writeCsr(addr: number, value: number): Promise<void> {
    const s = csrSetup(addr, true);
    const b = new Uint8Array(s.bRequest === 1 ? 4 : 8);
    const v = new DataView(b.buffer);
    if (b.length === 4) v.setUint32(0, value >>> 0, true);
    else v.setBigUint64(0, BigInt(value), true);
    await this.h.controlOut(s, b, this.timeoutMs);
  }

  /** libedgetpu polls forever; we give up after POLL_LIMIT reads or the timeout. */
  private async poll(addr: number, ok: (v: number) => boolean, what: string): Promise<number> {
    const deadline = Date.now() + this.timeoutMs;
    for (let i = 0; i < POLL_LIMIT && Date.now() <= deadline; i++) {
      const v = await this.readCsr(addr);
      if (ok(v)) return v;
    }
    throw new EdgeTpuError(`The Edge TPU at ${this.path} did not reach "${what}" (register 0x${addr.toString(16)}).`, 'Re-plug the stick and retry.', 'timeout');
  }

  /** EnableReset: force sleep, wait for the power state, clear bulk credits. */
  private async enableReset(): Promise<void> {
    const v = await this.readCsr(CSR.scu_ctrl_3);
    if (field(v, SCU3.forceSleepShift) === 3) return;
    await this.writeCsr(CSR.scu_ctrl_3, setField(v, SCU3.forceSleepShift, 3));
    await this.poll(CSR.scu_ctrl_3, (x) => field(x, SCU3.curPwrStateShift) === 2, 'sleep');
    await this.writeCsr(CSR.gcbb_credit0, 0xf);
    await this.writeCsr(CSR.gcbb_credit0, 0x0);
  }

  private async runControl(value: 1 | 2): Promise<void> {
    for (const a of CORE_RUN_CONTROLS) await this.writeCsr(a, value);
    await this.writeCsr(CSR.tileconfig0, 0x7f);
    await this.poll(CSR.tileconfig0, (x) => x === 0x7f, 'tile config');
    for (const a of TILE_RUN_CONTROLS) await this.writeCsr(a, value);
  }

  /** The open sequence of libedgetpu's UsbDriver::DoOpen (reference §1.7), register by register. */
  private async openSequence(): Promise<void> {
    // TopLevelHandler::Open
    const s0 = await this.readCsr(CSR.scu_ctrl_0);
    await this.writeCsr(CSR.scu_ctrl_0, (s0 & ~0x3f00) >>> 0);
    const s2 = await this.readCsr(CSR.scu_ctrl_2);
    if (field(s2, 18) === 1) await this.writeCsr(CSR.scu_ctrl_2, setField(s2, 18, 2));
    await this.enableReset();
    // QuitReset with the clocks of the performance level
    const clk = PERFORMANCE_CLOCKS[this.opts.performance ?? 'max'];
    let s3 = await this.readCsr(CSR.scu_ctrl_3);
    s3 = setField(s3, SCU3.forceSleepShift, 2);
    s3 = setField(s3, SCU3.gcbClkdivShift, clk.gcbDiv);
    s3 = setField(s3, 30, clk.axi125, 1);
    s3 = setField(s3, 31, clk.i8051_250, 1);
    await this.writeCsr(CSR.scu_ctrl_3, s3);
    await this.poll(CSR.scu_ctrl_3, (x) => field(x, SCU3.curPwrStateShift) === 0, 'run power state');
    await this.poll(CSR.scalarCoreRunControl, (x) => x === 0, 'scalar core idle');
    await this.writeCsr(CSR.idleRegister, 1);
    await this.writeCsr(CSR.tileconfig0, 0x7f);
    await this.poll(CSR.tileconfig0, (x) => x === 0x7f, 'tile config');
    await this.writeCsr(CSR.deepSleep, 0x1e02);
    // EnableHardwareClockGate
    const g = await this.readCsr(CSR.scu_ctrl_2);
    await this.writeCsr(CSR.scu_ctrl_2, setField(g, 18, 1));
    // InitializeChip
    const chip = await this.readCsr(CSR.omc0_00);
    if ((chip & 0xffff) !== 0x89a) throw new EdgeTpuError(`The device at ${this.path} reports chip id 0x${(chip & 0xffff).toString(16)}, not an Edge TPU (0x89a).`);
    await this.writeCsr(CSR.descr_ep, 0xf0);
    await this.writeCsr(CSR.multi_bo_ep, 0);
    await this.writeCsr(CSR.outfeed_chunk_length, this.info.speed === 'high' || this.info.speed === 'full' ? 0x20 : 0x80);
    await this.runControl(1);
    // RegisterAndEnableAllInterrupts
    await this.writeCsr(CSR.fatal_err_int_control, 1);
    for (const a of TOP_LEVEL_INT_CONTROLS) await this.writeCsr(a, 1);
    await this.writeCsr(CSR.omc0_d4, ((await this.readCsr(CSR.omc0_d4)) | 0x80000000) >>> 0);
    await this.writeCsr(CSR.rambist_ctrl_1, (((await this.readCsr(CSR.rambist_ctrl_1)) & ~0x007f0000) | 0x7f) >>> 0);
    await this.writeCsr(CSR.scu_ctr_7, (((await this.readCsr(CSR.scu_ctr_7)) & ~0x000c0000) | 0x3f) >>> 0);
    await this.writeCsr(CSR.slv_abm_en, 1);
    await this.writeCsr(CSR.mst_abm_en, 1);
    await this.writeCsr(CSR.slv_err_resp_isr_mask, 3);
    await this.writeCsr(CSR.mst_err_resp_isr_mask, 3);
    await this.writeCsr(CSR.omc0_d8, ((await this.readCsr(CSR.omc0_d8)) | 0x80000000) >>> 0);
  }

  /** libedgetpu's DoClose: disable interrupts, halt, enter reset. */
  private async closeSequence(): Promise<void> {
    for (const a of TOP_LEVEL_INT_CONTROLS) await this.writeCsr(a, 0);
    await this.writeCsr(CSR.omc0_d4, ((await this.readCsr(CSR.omc0_d4)) & ~0x80000000) >>> 0);
    await this.writeCsr(CSR.rambist_ctrl_1, ((await this.readCsr(CSR.rambist_ctrl_1)) | 0x0070007f) >>> 0);
    await this.writeCsr(CSR.scu_ctr_7, ((await this.readCsr(CSR.scu_ctr_7)) | 0x000c003f) >>> 0);
    await this.writeCsr(CSR.slv_abm_en, 0);
    await this.writeCsr(CSR.mst_abm_en, 0);
    await this.writeCsr(CSR.slv_err_resp_isr_mask, 0);
    await this.writeCsr(CSR.mst_err_resp_isr_mask, 0);
    await this.writeCsr(CSR.omc0_d8, ((await this.readCsr(CSR.omc0_d8)) & ~0x80000000) >>> 0);
    await this.writeCsr(CSR.fatal_err_int_control, 0);
    await this.runControl(2);
    await this.enableReset();
  }

  /** Closes gracefully (close sequence, release). Never throws; a dead device is just released. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.busy.catch(() => undefined);
    this.closed = true;
    try {
      if (!this.fault) await this.closeSequence();
    } catch { /* the device may be gone; releasing is what matters */ }
    await this.h.releaseInterface(0).catch(() => undefined);
    await this.h.close();
    await this.monitor?.catch(() => undefined);
    owners.delete(this.path);
  }

  // ---- Interrupts ---------------------------------------------------------------------------------------------------

  private async watchInterrupts(): Promise<void> {
    while (!this.closed) {
      let b: Uint8Array;
      try {
        b = await this.h.transferIn(EP.interrupt, 4, 0);
      } catch {
        return; // cancelled on close/reset, or the device is gone (the running request reports that)
      }
      if (b.length < 4) continue;
      const word = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
      if (word & INT.fatal) {
        let detail = '';
        try {
          const hib = await this.readCsr(CSR.hib_error_status);
          const first = await this.readCsr(CSR.hib_first_error_status);
          detail = ` (hib_error_status 0x${hib.toString(16)}, first error 0x${first.toString(16)})`;
          await this.writeCsr(CSR.fatal_err_int_status, 0);
        } catch { /* reported below anyway */ }
        this.raiseFault(new EdgeTpuError(`The Edge TPU at ${this.path} raised a fatal error${detail}.`, 'The stick was reset; retry. If it repeats, recompile the model with a matching compiler version.', 'fatal'));
      }
      if (word & (INT.thermalWarning | INT.thermalShutdown)) {
        this.thermalWarnings++;
        this.opts.onWarning?.(`Thermal ${word & INT.thermalShutdown ? 'shutdown' : 'warning'} from the Edge TPU at ${this.path}: the USB Accelerator has no throttling; give it air or lower the performance level.`);
        await this.writeCsr(CSR.top_level_int_3_status, 0).catch(() => undefined);
      }
    }
  }

  private raiseFault(e: EdgeTpuError): void {
    this.fault ??= e;
    for (const w of this.faultWaiters) w(e);
  }

  /** Runs `fn` unless the device faults first; on any failure the stick is reset and the Error says so. */
  private async guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new EdgeTpuError(`The Coral stick at ${this.path} is closed.`);
    if (this.fault) throw this.fault;
    let off: (() => void) | undefined;
    const faulted = new Promise<never>((_, reject) => {
      const w = (e: EdgeTpuError) => reject(e);
      this.faultWaiters.add(w);
      off = () => this.faultWaiters.delete(w);
    });
    const run = this.busy.catch(() => undefined).then(() => Promise.race([fn(), faulted]));
    this.busy = run.catch(() => undefined);
    try {
      return await run;
    } catch (e) {
      throw await this.recover(e, what);
    } finally {
      off?.();
    }
  }

  /** Port-resets a stick that failed mid-request so it never stays wedged, and explains what happened. */
  private async recover(e: unknown, what: string): Promise<EdgeTpuError> {
    const cause = e instanceof EdgeTpuError || e instanceof UsbError ? e : new EdgeTpuError(String((e as Error)?.message ?? e));
    this.fault ??= cause instanceof EdgeTpuError ? cause : new EdgeTpuError(cause.message, cause.fix, cause.kind);
    this.closed = true;
    owners.delete(this.path);
    if (cause instanceof UsbError && cause.kind === 'no-device') {
      await this.h.close();
      return new EdgeTpuError(`The Coral stick at ${this.path} disappeared during ${what}: ${cause.message}`, 'Re-plug the stick and retry.', 'no-device');
    }
    let resetNote = 'it was reset';
    try {
      await this.h.reset();
      await waitForDevice(this.backend, this.path, 'any', this.opts.reenumerateTimeoutMs ?? 5000);
    } catch {
      resetNote = 'resetting it failed too; re-plug it';
    }
    await this.h.close();
    const kind = cause instanceof EdgeTpuError ? cause.kind : cause.kind;
    return new EdgeTpuError(`${what} failed on the Coral stick at ${this.path}: ${cause.message} (${resetNote}).`, (cause as { hint?: string; fix?: string }).hint ?? (cause as UsbError).fix ?? 'Retry; re-plug the stick if it happens again.', kind);
  }

  // ---- Streams --------------------------------------------------------------------------------------------------------

  /** One headered stream on bulk OUT: the 8-byte header as its own transfer, then ≤ 1 MiB payload pieces. */
  private async send(tag: number, data: Uint8Array): Promise<void> {
    await this.h.transferOut(EP.bulkOut, encodeHeader(data.length, tag), this.timeoutMs);
    for (let o = 0; o < data.length; o += MAX_BULK_OUT) await this.h.transferOut(EP.bulkOut, data.subarray(o, o + MAX_BULK_OUT), this.timeoutMs);
  }

  private async readOutput(into: Uint8Array, offset: number, size: number): Promise<void> {
    const max = this.info.speed === 'high' || this.info.speed === 'full' ? 256 : 1024;
    let got = 0;
    while (got < size) {
      const part = await this.h.transferIn(EP.output, Math.min(max, size - got), this.timeoutMs);
      into.set(part.subarray(0, size - got), offset + got);
      got += part.length;
    }
  }

  private async readEvent() {
    return decodeEvent(await this.h.transferIn(EP.event, 16, this.timeoutMs));
  }

  private async waitInterrupt0(): Promise<void> {
    for (;;) {
      const e = await this.readEvent();
      if (e.tag === TAG.interrupt0) return;
    }
  }

  /**
   * Runs one executable: replays its DMA hints (deterministic executables) or answers the device's DMA
   * descriptors (non-deterministic ones, e.g. LSTM). Returns the raw device output buffers by layer name.
   */
  private async runExecutable(exe: Executable, instructions: Uint8Array[], inputs: Map<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
    const outputs = new Map(exe.outputLayers.map((l) => [l.name, new Uint8Array(l.sizeBytes)] as const));
    const scratch = new Uint8Array(exe.scratchSizeBytes);
    const buffer = (kind: BufferKind, name?: string): Uint8Array => {
      if (kind === 'parameter') return exe.parameters;
      if (kind === 'scratch') return scratch;
      const b = kind === 'input' ? inputs.get(name ?? '') : outputs.get(name ?? '');
      if (!b) throw new EdgeTpuError(`The compiled model refers to ${kind} "${name}" which it does not declare.`);
      return b;
    };
    const wantDescriptors = !exe.fullyDeterministic;
    if (wantDescriptors !== this.descriptorsOn) {
      // Non-deterministic executables need the device to request each DMA (libedgetpu: USB_ENABLE_BULK_DESCRIPTORS_FROM_DEVICE).
      await this.writeCsr(CSR.descr_ep, wantDescriptors ? 0xff : 0xf0);
      this.descriptorsOn = wantDescriptors;
    }
    if (!wantDescriptors) {
      for (const h of exe.hints) {
        if (h.kind === 'instruction') await this.send(TAG.instructions, instructions[h.chunk]!);
        else if (h.kind === 'dma' && h.direction === 'infeed') {
          const src = buffer(h.meta.desc, h.meta.name);
          if (h.offset + h.size > src.length) throw new EdgeTpuError(`DMA hint reads ${h.meta.desc} "${h.meta.name ?? ''}" bytes ${h.offset}..${h.offset + h.size} beyond its ${src.length} bytes.`);
          await this.send(h.meta.desc === 'parameter' ? TAG.parameters : TAG.input, src.subarray(h.offset, h.offset + h.size));
        } else if (h.kind === 'dma') await this.readOutput(buffer(h.meta.desc, h.meta.name), h.offset, h.size);
        else if (h.kind === 'interrupt') await this.waitInterrupt0();
      }
      if (!exe.hints.some((h) => h.kind === 'interrupt')) await this.waitInterrupt0();
      return outputs;
    }
    // Descriptor-driven: send the first instruction chunk, then serve what the device asks for.
    const first = exe.hints.find((h) => h.kind === 'instruction');
    await this.send(TAG.instructions, instructions[first && first.kind === 'instruction' ? first.chunk : 0]!);
    for (;;) {
      const e = await this.readEvent();
      if (e.tag === TAG.interrupt0) return outputs;
      if (e.tag === TAG.instructions) {
        const chunk = instructions[Number(e.address)];
        if (!chunk) throw new EdgeTpuError(`The device asked for instruction chunk ${e.address}, which does not exist.`);
        await this.send(TAG.instructions, chunk);
        continue;
      }
      const kindCode = e.address >> 40n;
      const kind = (Object.keys(KIND_CODE) as (BufferKind | 'instructions')[]).find((k) => KIND_CODE[k] === kindCode);
      if (!kind || kind === 'instructions') throw new EdgeTpuError(`The device sent a DMA descriptor for unknown address 0x${e.address.toString(16)}.`);
      const idx = Number((e.address >> 32n) & 0xffn);
      const off = Number(e.address & 0xffffffffn);
      const name = kind === 'input' ? exe.inputLayers[idx]?.name : kind === 'output' ? exe.outputLayers[idx]?.name : undefined;
      const buf = buffer(kind, name);
      if (off + e.length > buf.length) throw new EdgeTpuError(`The device asked for ${kind} bytes ${off}..${off + e.length} beyond the ${buf.length}-byte buffer.`);
      if (e.tag === TAG.output) await this.readOutput(buf, off, e.length);
      else await this.send(e.tag, buf.subarray(off, off + e.length));
    }
  }

  // ---- Models ------------------------------------------------------------------------------------------------------------

  /**
   * Parses, partitions and links a compiled model. Ops the compiler left on the CPU (before, between or after
   * Edge TPU ops) become standalone models for the TFLite runtime, loaded on the first `invoke`.
   */
  loadModel(bytesOrModel: Uint8Array | EdgeTpuModel, fileName = 'model_edgetpu.tflite'): LoadedEdgeTpuModel {
    const model = bytesOrModel instanceof Uint8Array ? readEdgeTpuModel(bytesOrModel, fileName) : bytesOrModel;
    return prepareModel(model);
  }

  /**
   * One inference. `inputs` are the graph's input tensors (bytes, in subgraph input order); returns the graph's
   * output tensors (bytes, TFLite layout). Segments run in order: CPU ones in the TFLite runtime, Edge TPU ones on
   * the stick (each runs its parameter-caching executable first when its parameters are not cached).
   */
  async invoke(m: LoadedEdgeTpuModel, inputs: Uint8Array[]): Promise<InvokeResult> {
    const fileName = m.model.fileName;
    if (inputs.length !== m.inputNames.length) throw new EdgeTpuError(`${fileName} takes ${m.inputNames.length} input(s) (${m.inputNames.join(', ')}), got ${inputs.length}.`, undefined, 'input');
    const values = new Map<string, Uint8Array>(m.inputNames.map((n, i) => [n, inputs[i]!]));
    const cpu = m.partition.segments.some((s) => s.kind === 'cpu') ? await loadCpuSegments(m) : [];
    let cachedParameters = false;
    let cpuMs = 0;
    let tpuMs = 0;
    let c = 0;
    let t = 0;
    for (const seg of m.partition.segments) {
      const t0 = performance.now();
      if (seg.kind === 'cpu') {
        try {
          cpu[c++]!.run(values, fileName);
        } catch (e) {
          throw e instanceof EdgeTpuError ? e : new EdgeTpuError((e as Error).message, 'The CPU part of the model failed in the TFLite runtime; check the model with `edgewise inspect`.', 'cpu');
        }
        cpuMs += performance.now() - t0;
      } else {
        const part = m.tpu[t++]!;
        if (await this.guarded(`Running ${fileName}`, () => this.runTpuPart(m, part, values))) cachedParameters = true;
        tpuMs += performance.now() - t0;
      }
    }
    const outputs = m.outputNames.map((n) => {
      const o = values.get(n);
      if (!o) throw new EdgeTpuError(`${fileName}: no part of the model produced output "${n}".`);
      return o;
    });
    return { outputs, cachedParameters, cpuMs, tpuMs };
  }

  /** Runs one Edge TPU op: its inputs come from `values`, its outputs go back into it. Returns whether it cached parameters. */
  private async runTpuPart(m: LoadedEdgeTpuModel, part: LoadedTpuPart, values: Map<string, Uint8Array>): Promise<boolean> {
    const fileName = m.model.fileName;
    let cachedParameters = false;
    const token = part.main.exe.parameterCachingToken;
    if (part.caching && (token === 0n || token !== this.cachedToken || !this.cachedExes.has(part.caching.exe))) {
      if (token !== this.cachedToken) this.cachedExes.clear();
      this.cachedToken = 0n;
      await this.runExecutable(part.caching.exe, part.caching.instructions, new Map());
      this.cachedToken = token;
      this.cachedExes.add(part.caching.exe);
      cachedParameters = true;
    }
    const devIn = new Map<string, Uint8Array>();
    part.main.exe.inputLayers.forEach((l, i) => {
      const tensor = part.segment.inputs[i]!;
      const bytes = part.state.get(l.name) ?? values.get(tensor);
      if (!bytes) throw new EdgeTpuError(`${fileName}: the Edge TPU input "${l.name}" (tensor '${tensor}') has no data (it is neither a graph input nor produced by an earlier part).`, undefined, 'input');
      try {
        devIn.set(l.name, toDeviceInput(bytes, l));
      } catch (e) {
        throw new EdgeTpuError(`${fileName}: ${(e as Error).message}`, undefined, 'input');
      }
    });
    const raw = await this.runExecutable(part.main.exe, part.main.instructions, devIn);
    const out = new Map<string, Uint8Array>();
    for (const l of part.main.exe.outputLayers) out.set(l.name, fromDeviceOutput(raw.get(l.name)!, l));
    part.segment.outputs.forEach((tensor, i) => values.set(tensor, out.get(part.main.exe.outputLayers[i]!.name)!));
    // LSTM state: "<state>_variable_output" becomes the next call's "<state>" input.
    for (const [name, bytes] of out) {
      const s = /^(.*)_variable_output$/.exec(name)?.[1];
      if (s && part.state.has(s)) part.state.set(s, bytes);
    }
    return cachedParameters;
  }
}

/** Loads the model's CPU segments in the TFLite runtime once (shared by concurrent first calls). */
function loadCpuSegments(m: LoadedEdgeTpuModel): Promise<CpuSegmentRunner[]> {
  m.cpu ??= (async () => {
    const runners: CpuSegmentRunner[] = [];
    try {
      for (const s of m.partition.segments) if (s.kind === 'cpu') runners.push(await CpuSegmentRunner.create(s, m.model.fileName));
    } catch (e) {
      runners.forEach((r) => r.dispose());
      m.cpu = undefined;
      throw new EdgeTpuError((e as Error).message, 'The CPU part of the model cannot run in the TFLite runtime here.', 'unsupported');
    }
    return runners;
  })();
  return m.cpu;
}

/** Frees the TFLite runtime memory of a model's CPU segments (a no-op for fully mapped models). */
export async function unloadModel(m: LoadedEdgeTpuModel): Promise<void> {
  const cpu = m.cpu;
  m.cpu = undefined;
  for (const r of (await cpu?.catch(() => [])) ?? []) r.dispose();
}

/**
 * Partitions the model and links every Edge TPU op's executables. Custom-op input/output i ↔ the executable's
 * input/output layer i (layer names equal tensor names in compiler output, but the position is what counts).
 */
export function prepareModel(model: EdgeTpuModel): LoadedEdgeTpuModel {
  const { tflite, fileName } = model;
  const partition = partitionModel(model);
  const sg = tflite.subgraphs[0]!;
  const computed = new Set<number>([...sg.inputs, ...sg.operators.flatMap((o) => o.outputs)]);
  const tpu = partition.segments.filter((s): s is TpuSegment => s.kind === 'tpu').map((segment): LoadedTpuPart => {
    const { op } = segment;
    const where = `${fileName}: Edge TPU op ${op.operatorIndex}`;
    if (op.main.inputLayers.length !== segment.inputs.length)
      throw new EdgeTpuError(`${where} has ${segment.inputs.length} input tensor(s) but its executable has ${op.main.inputLayers.length} input layer(s).`, 'Recompile the model with edgetpu_compiler.', 'unsupported');
    if (op.main.outputLayers.length < segment.outputs.length)
      throw new EdgeTpuError(`${where} has ${segment.outputs.length} output tensor(s) but its executable has only ${op.main.outputLayers.length} output layer(s).`, 'Recompile the model with edgetpu_compiler.', 'unsupported');
    const state = new Map<string, Uint8Array>();
    op.inputs.filter((ti) => ti >= 0).forEach((ti, i) => {
      if (computed.has(ti)) return;
      const t = sg.tensors[ti]!;
      const data = tflite.buffers[t.buffer];
      const size = t.shape.reduce((a, b) => a * b, 1) * (t.type === 'INT16' ? 2 : t.type === 'INT32' || t.type === 'FLOAT32' ? 4 : 1);
      state.set(op.main.inputLayers[i]!.name, data && data.length ? data.slice() : new Uint8Array(size));
    });
    return {
      segment,
      main: { exe: op.main, instructions: linkExecutable(op.main) },
      ...(op.caching ? { caching: { exe: op.caching, instructions: linkExecutable(op.caching) } } : {}),
      state,
    };
  });
  return { model, op: model.customOps[0]!, partition, tpu, inputNames: partition.inputs, outputNames: partition.outputs };
}
