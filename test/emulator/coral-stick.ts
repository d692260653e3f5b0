/**
 * A software Coral USB Accelerator that speaks the real USB protocol (shared/reference/edgetpu-usb.md §1.9)
 * behind the same `UsbBackend` interface as node-usb, for tests and for `EDGEWISE_EMULATED_CORAL`.
 *
 * What it models:
 * - boot ROM: 1a6e:089a with DFU 1.1 (256-byte blocks, GETSTATUS state 5 during download and 2 after the
 *   zero-length block, UPLOAD read-back), re-enumeration as 18d1:9302 at the same port after a port reset;
 * - the CSR file: power state following rg_force_sleep, tile-config echo, chip id, run controls, W0C status;
 * - bulk OUT 0x01 as a byte stream of 8-byte headers + payloads (split or merged across transfers);
 * - execution of compiled models by following their DMA hints; outputs from a compute function (the CPU twin
 *   through the TFLite runtime) or canned bytes; events on 0x82, interrupt words on 0x83, outputs on 0x81;
 * - a latency model: transfer time at the link speed plus estimated cycles at the configured clock;
 * - faults: stall, timeout (hang), unplug mid-transfer, fatal-error interrupt, thermal warning, second opener.
 */
import { createHash } from 'node:crypto';
import {
  UsbError, type ControlSetup, type LinkSpeed, type UsbBackend, type UsbChange, type UsbDevice, type UsbDeviceHandle, type UsbDeviceInfo,
  CORAL_APP_ID, CORAL_DFU_ID,
} from '../../native-bridges/usb.ts';
import { CSR, DFU, EP, HEADER_BYTES, INT, PERFORMANCE_CLOCKS, SCU3, TAG, csrAddress, decodeHeader, encodeEvent, field, setField, type DeviceEvent } from '../../main/devices/protocol.ts';
import { readEdgeTpuModel, type BufferKind, type EdgeTpuCustomOp, type Executable } from '../../main/devices/package.ts';
import { toDeviceOutput } from '../../main/devices/layers.ts';

/** Computes the custom op's outputs (tensor bytes, TFLite layout) from its inputs, keyed by layer name. */
export type ComputeFn = (inputs: Map<string, Uint8Array>) => Promise<Map<string, Uint8Array>>;

export interface EmulatedModelSpec {
  compiled: Uint8Array;
  fileName?: string;
  compute?: ComputeFn;
  /** Fixed outputs by layer name (tensor bytes), used when there is no compute function. */
  canned?: Map<string, Uint8Array>;
}

export type Fault =
  | { kind: 'stall'; endpoint: number }
  | { kind: 'timeout' }
  | { kind: 'unplug'; afterBulkOutBytes: number }
  | { kind: 'fatal' }
  | { kind: 'thermal' };

export interface StickOptions {
  busNumber?: number;
  ports?: number[];
  speed?: 'super' | 'high';
  /** Start with firmware already loaded (as after a warm re-plug in some hubs); default: boot ROM. */
  state?: 'dfu' | 'app';
  /** CSR polls see the new value after this many reads (0 = immediately, as in the captured trace). */
  pollDelayReads?: number;
  /** Multiply simulated latencies (0 = no waiting at all). */
  timeScale?: number;
}

/** Effective bulk throughput per link speed (bytes per ms), after protocol overhead. */
const LINK_BYTES_PER_MS: Record<'super' | 'high', number> = { super: 320_000, high: 35_000 };
/** Without an estimated cycle count (all shared fixtures have 0) charge this much compute per executable. */
const DEFAULT_COMPUTE_MS = 0.3;

const DEVICE_DESCRIPTOR = (vid: number, pid: number, speed: 'super' | 'high') => {
  const b = new Uint8Array(18);
  const v = new DataView(b.buffer);
  b[0] = 18; b[1] = 1; v.setUint16(2, speed === 'super' ? 0x0310 : 0x0210, true);
  b[7] = speed === 'super' ? 9 : 64; v.setUint16(8, vid, true); v.setUint16(10, pid, true); v.setUint16(12, 0x0100, true);
  b[17] = 1;
  return b;
};

/** DFU-mode configuration: one interface (class 0xFE/0x01, no endpoints) + DFU functional descriptor (< 256 B). */
const DFU_CONFIG = (() => {
  const cfg = [9, 2, 27, 0, 1, 1, 0, 0x80, 250];
  const iface = [9, 4, 0, 0, 0, 0xfe, 0x01, 0x02, 0];
  // bmAttributes: bitCanDnload | bitCanUpload | bitWillDetach; wDetachTimeOut 255; wTransferSize 256; bcdDFU 1.1
  const func = [9, 0x21, 0x0b, 255, 0, 0, 1, 0x10, 0x01];
  return new Uint8Array([...cfg, ...iface, ...func]);
})();

const APP_CONFIG = (speed: 'super' | 'high') => {
  const mps = speed === 'super' ? 1024 : 512;
  const ep = (addr: number, type: number, size: number) => [7, 5, addr, type, size & 0xff, size >> 8, type === 3 ? 4 : 0];
  const body = [
    9, 4, 0, 0, 4, 0xff, 0xff, 0xff, 0,
    ...ep(EP.bulkOut, 2, mps), ...ep(EP.output, 2, mps), ...ep(EP.event, 2, mps), ...ep(EP.interrupt, 3, 4),
  ];
  return new Uint8Array([9, 2, 9 + body.length, 0, 1, 1, 0, 0x80, 250, ...body]);
};

interface Waiter {
  resolve(b: Uint8Array): void;
  reject(e: Error): void;
  length: number;
}

interface LoadedProgram {
  spec: EmulatedModelSpec;
  op: EdgeTpuCustomOp;
}

interface RunState {
  prog: LoadedProgram;
  exe: Executable;
  hint: number;
  received: Map<string, Uint8Array>; // input layer name → device bytes
  bases: Map<string, bigint>; // "<kind>:<name>" → linked base address read from the instructions
  deviceOutputs?: Map<string, Uint8Array>;
  emittedOutputs: Set<string>;
  bytesIn: number;
}

let nextPort = 1;

export class EmulatedCoralStick {
  readonly busNumber: number;
  readonly ports: number[];
  readonly speed: 'super' | 'high';
  state: 'dfu' | 'app';
  present = true;
  /** Every control transfer, in order, as the host sent it (data = bytes written or returned). */
  readonly controlLog: { setup: ControlSetup; data: Uint8Array; dir: 'in' | 'out' }[] = [];
  /** Sizes and first 8 bytes of every bulk-out transfer. */
  readonly bulkOutLog: { length: number; head: Uint8Array }[] = [];
  /** Parsed bulk-out records: tag and payload length. */
  readonly records: { tag: number; length: number }[] = [];
  readonly stats = { executions: 0, cachingRuns: 0, cacheMisses: 0, resets: 0, dfuBlocks: 0, fatalErrors: 0 };
  readonly pollDelayReads: number;
  timeScale: number;

  private generation = 0;
  private owner: EmulatorHandle | undefined;
  private firmware: number[] = [];
  private dfuState: number = DFU.STATE_IDLE;
  private dfuNextBlock = 0;
  private firmwareComplete = false;
  private detachRequested = false;
  private csr = new Map<number, bigint>();
  private pendingPoll = new Map<number, { value: bigint; reads: number }>();
  private hung = false;
  private faults: Fault[] = [];
  private programs: LoadedProgram[] = [];
  private cachedToken = 0n;
  private run: RunState | undefined;
  private streamHeader: Uint8Array | undefined;
  private streamHeaderFill = 0;
  private payload: Uint8Array | undefined;
  private payloadFill = 0;
  private payloadTag = 0;
  private bulkOutTotal = 0;
  private queues = new Map<number, Uint8Array[]>([[EP.output, []], [EP.event, []], [EP.interrupt, []]]);
  private waiters = new Map<number, Waiter[]>([[EP.output, []], [EP.event, []], [EP.interrupt, []]]);
  private busyUntil = 0;
  private work: Promise<void> = Promise.resolve();
  private listeners = new Set<(c: UsbChange) => void>();

  constructor(opts: StickOptions = {}) {
    this.busNumber = opts.busNumber ?? 1;
    this.ports = opts.ports ?? [nextPort++];
    this.speed = opts.speed ?? 'super';
    this.state = opts.state ?? 'dfu';
    this.pollDelayReads = opts.pollDelayReads ?? 0;
    this.timeScale = opts.timeScale ?? 1;
    this.resetCsrs();
  }

  get path(): string {
    return `${this.busNumber}-${this.ports.join('.')}`;
  }

  info(): UsbDeviceInfo {
    const id = this.state === 'dfu' ? CORAL_DFU_ID : CORAL_APP_ID;
    return { path: this.path, busNumber: this.busNumber, portNumbers: [...this.ports], vendorId: id.vendorId, productId: id.productId, speed: this.speed as LinkSpeed };
  }

  /** Register a compiled model so instruction streams can be recognised and executed. */
  addModel(spec: EmulatedModelSpec): void {
    const m = readEdgeTpuModel(spec.compiled, spec.fileName ?? 'emulated_edgetpu.tflite');
    for (const op of m.customOps) this.programs.push({ spec, op });
  }

  inject(f: Fault): void {
    this.faults.push(f);
    if (f.kind === 'timeout') this.hung = true;
  }

  /** Re-plug after an unplug: power was lost, so the stick is back in its boot ROM. */
  replug(): void {
    if (this.present) return;
    this.present = true;
    this.state = 'dfu';
    this.firmwareComplete = false;
    this.resetDevice();
    this.emit('attach');
  }

  unplug(): void {
    if (!this.present) return;
    this.present = false;
    this.generation++;
    this.owner = undefined;
    this.failWaiters(new UsbError('no-device', `The device at ${this.path} was unplugged.`, 'Re-plug the stick and retry.'));
    this.emit('detach');
  }

  onChange(l: (c: UsbChange) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(type: 'attach' | 'detach'): void {
    const info = this.info();
    for (const l of this.listeners) l({ type, info });
  }

  // ---- Handle plumbing ------------------------------------------------------------------------------------------

  open(): UsbDeviceHandle {
    if (!this.present) throw new UsbError('no-device', `The device at ${this.path} is not connected.`);
    return new EmulatorHandle(this, this.generation);
  }

  /** @internal */ check(h: EmulatorHandle, needOwner = false): void {
    if (!this.present || h.generation !== this.generation) throw new UsbError('no-device', `The device at ${this.path} was unplugged or reset.`, 'Re-plug the stick and retry.');
    if (needOwner && this.owner !== h) throw new UsbError('io', `Interface 0 of ${this.path} is not claimed by this handle.`);
  }

  /** @internal */ claim(h: EmulatorHandle): void {
    this.check(h);
    if (this.owner && this.owner !== h)
      throw new UsbError('busy', `The device at ${this.path} is busy: another program holds it (claiming interface 0).`,
        'Close the other program using the Coral stick (another Edgewise window, a Python/pycoral script, Frigate…), then retry.');
    this.owner = h;
  }

  /** @internal */ release(h: EmulatorHandle): void {
    if (this.owner === h) {
      this.owner = undefined;
      this.failWaiters(new UsbError('cancelled', `Transfer cancelled: interface released on ${this.path}.`));
    }
  }

  private takeFault(pred: (f: Fault) => boolean): Fault | undefined {
    const i = this.faults.findIndex(pred);
    return i < 0 ? undefined : this.faults.splice(i, 1)[0];
  }

  /** A hung device: nothing completes until the host gives up (its own timeout). */
  private hang<T>(timeoutMs: number, what: string): Promise<T> {
    return new Promise((_, reject) =>
      setTimeout(() => reject(new UsbError('timeout', `Timed out: ${what} on USB device ${this.path}.`, 'Re-plug the stick; if it keeps happening use a powered hub or another cable.')), Math.max(1, timeoutMs)),
    );
  }

  private async sleepMs(ms: number): Promise<void> {
    const t = ms * this.timeScale;
    if (t >= 1) await new Promise((r) => setTimeout(r, t));
  }

  // ---- Control transfers ---------------------------------------------------------------------------------------

  /** @internal */ async control(h: EmulatorHandle, setup: ControlSetup, out: Uint8Array | null, length: number, timeoutMs: number): Promise<Uint8Array> {
    this.check(h);
    if (this.hung) return this.hang(timeoutMs, `control transfer 0x${setup.bRequest.toString(16)}`);
    if (this.takeFault((f) => f.kind === 'stall' && f.endpoint === 0))
      throw new UsbError('stall', `The device stalled: control transfer on USB device ${this.path}.`, 'Re-plug the stick and retry.');
    const reply = this.handleControl(setup, out, length);
    this.controlLog.push({ setup: { ...setup }, data: out ? out.slice() : reply.slice(), dir: out ? 'out' : 'in' });
    return reply;
  }

  private stall(what: string): never {
    throw new UsbError('stall', `The device stalled: ${what} on USB device ${this.path}.`, 'Re-plug the stick and retry.');
  }

  private handleControl(s: ControlSetup, out: Uint8Array | null, length: number): Uint8Array {
    const none = new Uint8Array(0);
    if (s.bmRequestType === 0x80 && s.bRequest === 6) {
      const type = s.wValue >> 8;
      const id = this.state === 'dfu' ? CORAL_DFU_ID : CORAL_APP_ID;
      if (type === 1) return DEVICE_DESCRIPTOR(id.vendorId, id.productId, this.speed).subarray(0, length);
      if (type === 2) return (this.state === 'dfu' ? DFU_CONFIG : APP_CONFIG(this.speed)).subarray(0, length);
      this.stall(`GET_DESCRIPTOR type ${type}`);
    }
    if (this.state === 'dfu') return this.handleDfu(s, out, length);
    if (s.bmRequestType === DFU.OUT && s.bRequest === DFU.DETACH) {
      this.detachRequested = true;
      return none;
    }
    if ((s.bmRequestType === 0xc0 || s.bmRequestType === 0x40) && (s.bRequest === 0 || s.bRequest === 1)) {
      const addr = csrAddress(s.wValue, s.wIndex);
      const width = s.bRequest === 0 ? 8 : 4;
      if (s.bmRequestType === 0x40) {
        if (!out || out.length !== width) this.stall(`CSR write 0x${addr.toString(16)} with ${out?.length ?? 0} bytes`);
        const v = width === 8 ? new DataView(out.buffer, out.byteOffset).getBigUint64(0, true) : BigInt(new DataView(out.buffer, out.byteOffset).getUint32(0, true));
        this.writeCsr(addr, v);
        return none;
      }
      if (length !== width) this.stall(`CSR read 0x${addr.toString(16)} of ${length} bytes`);
      const v = this.readCsr(addr);
      const b = new Uint8Array(width);
      if (width === 8) new DataView(b.buffer).setBigUint64(0, v, true);
      else new DataView(b.buffer).setUint32(0, Number(v & 0xffffffffn), true);
      return b;
    }
    this.stall(`request 0x${s.bmRequestType.toString(16)}/${s.bRequest}`);
  }

  private handleDfu(s: ControlSetup, out: Uint8Array | null, length: number): Uint8Array {
    if (s.bmRequestType === DFU.OUT && s.bRequest === DFU.DNLOAD) {
      if (s.wValue !== (this.dfuNextBlock & 0xffff)) {
        this.dfuState = DFU.STATE_ERROR;
        this.stall(`DFU_DNLOAD block ${s.wValue} (expected ${this.dfuNextBlock})`);
      }
      const data = out ?? new Uint8Array(0);
      if (data.length > DFU.TRANSFER_SIZE) this.stall(`DFU_DNLOAD of ${data.length} bytes (> wTransferSize 256)`);
      this.dfuNextBlock++;
      if (data.length === 0) {
        this.firmwareComplete = this.firmware.length > 0;
        this.dfuState = DFU.STATE_IDLE; // manifestation done at the next GETSTATUS
      } else {
        if (this.dfuNextBlock === 1) this.firmware = [];
        this.firmware.push(...data);
        this.stats.dfuBlocks++;
        this.dfuState = DFU.STATE_DNLOAD_IDLE;
      }
      return new Uint8Array(0);
    }
    if (s.bmRequestType === DFU.IN && s.bRequest === DFU.GETSTATUS) {
      // bStatus OK, bwPollTimeout 1 ms, bState, iString 0
      return new Uint8Array([this.dfuState === DFU.STATE_ERROR ? 0x0f : 0, 1, 0, 0, this.dfuState, 0]).subarray(0, length);
    }
    if (s.bmRequestType === DFU.IN && s.bRequest === DFU.UPLOAD) {
      const start = s.wValue * DFU.TRANSFER_SIZE;
      return new Uint8Array(this.firmware.slice(start, start + Math.min(length, DFU.TRANSFER_SIZE)));
    }
    if (s.bmRequestType === DFU.IN && s.bRequest === DFU.GETSTATE) return new Uint8Array([this.dfuState]);
    if (s.bmRequestType === DFU.OUT && (s.bRequest === DFU.CLRSTATUS || s.bRequest === DFU.ABORT)) {
      this.dfuState = DFU.STATE_IDLE;
      this.dfuNextBlock = 0;
      return new Uint8Array(0);
    }
    this.stall(`request 0x${s.bmRequestType.toString(16)}/${s.bRequest} in DFU mode`);
  }

  // ---- CSR model -------------------------------------------------------------------------------------------------

  private resetCsrs(): void {
    this.csr.clear();
    this.pendingPoll.clear();
    // Reset values chosen to match what the captured trace's read-dependent writes imply.
    this.csr.set(CSR.omc0_00, 0x0000089an);
    this.csr.set(CSR.scu_ctrl_0, 0x000f0959n);
    this.csr.set(CSR.scu_ctrl_2, 0x00110000n);
    this.csr.set(CSR.scu_ctrl_3, 0x60050004n);
    this.csr.set(CSR.omc0_d4, 0x1n);
  }

  readCsr(addr: number): bigint {
    const p = this.pendingPoll.get(addr);
    if (p) {
      if (p.reads <= 0) {
        this.csr.set(addr, p.value);
        this.pendingPoll.delete(addr);
      } else p.reads--;
    }
    return this.csr.get(addr) ?? 0n;
  }

  private later(addr: number, value: bigint): void {
    if (this.pollDelayReads <= 0) this.csr.set(addr, value);
    else this.pendingPoll.set(addr, { value, reads: this.pollDelayReads });
  }

  private writeCsr(addr: number, v: bigint): void {
    switch (addr) {
      case CSR.scu_ctrl_3: {
        const n = Number(v & 0xffffffffn);
        this.csr.set(addr, BigInt(setField(n, SCU3.curPwrStateShift, field(Number(this.csr.get(addr) ?? 0n), SCU3.curPwrStateShift))));
        const force = field(n, SCU3.forceSleepShift);
        if (force === 3) {
          // Entering reset halts everything.
          for (const a of [CSR.scalarCoreRunControl, CSR.tileconfig0]) this.csr.set(a, 0n);
          this.later(addr, BigInt(setField(n, SCU3.curPwrStateShift, 2)));
        } else if (force === 2) this.later(addr, BigInt(setField(n, SCU3.curPwrStateShift, 0)));
        return;
      }
      case CSR.tileconfig0:
        this.later(addr, v);
        return;
      case CSR.fatal_err_int_status:
      case CSR.top_level_int_0_status:
      case CSR.top_level_int_3_status:
        this.csr.set(addr, (this.csr.get(addr) ?? 0n) & v); // write 0 to clear
        return;
      case CSR.rambist_ctrl_1:
      case CSR.scu_ctr_7:
        // Low bits are write-1-to-clear status; they read back 0.
        this.csr.set(addr, v & ~0xffn);
        return;
      default:
        this.csr.set(addr, v);
    }
  }

  private get outfeedChunk(): number {
    const v = Number(this.csr.get(CSR.outfeed_chunk_length) ?? 0x80n);
    return Math.max(8, v * 8);
  }

  private get descriptorsEnabled(): boolean {
    return ((Number(this.csr.get(CSR.descr_ep) ?? 0xf0n)) & 0x0f) !== 0;
  }

  private get running(): boolean {
    return this.csr.get(CSR.scalarCoreRunControl) === 1n && field(Number(this.csr.get(CSR.scu_ctrl_3) ?? 0n), SCU3.curPwrStateShift) === 0;
  }

  private get gcbMHz(): number {
    const div = field(Number(this.csr.get(CSR.scu_ctrl_3) ?? 0n), SCU3.gcbClkdivShift);
    return Object.values(PERFORMANCE_CLOCKS).find((c) => c.gcbDiv === div)?.gcbMHz ?? 500;
  }

  // ---- Port reset -------------------------------------------------------------------------------------------------

  /** @internal */ async portReset(h: EmulatorHandle): Promise<void> {
    this.check(h);
    this.stats.resets++;
    this.emit('detach');
    if (this.state === 'dfu' && this.firmwareComplete) this.state = 'app';
    else if (this.state === 'app' && this.detachRequested) {
      this.state = 'dfu';
      this.firmwareComplete = false;
    }
    this.resetDevice();
    this.emit('attach');
  }

  private resetDevice(): void {
    this.generation++;
    this.owner = undefined;
    this.hung = false;
    this.detachRequested = false;
    this.faults = this.faults.filter((f) => f.kind !== 'timeout');
    this.dfuState = DFU.STATE_IDLE;
    this.dfuNextBlock = 0;
    this.cachedToken = 0n;
    this.run = undefined;
    this.streamHeader = undefined;
    this.payload = undefined;
    this.failWaiters(new UsbError('no-device', `The device at ${this.path} was reset.`));
    for (const q of this.queues.values()) q.length = 0;
    this.resetCsrs();
  }

  private failWaiters(e: Error): void {
    for (const ws of this.waiters.values()) {
      for (const w of ws.splice(0)) w.reject(e);
    }
  }

  // ---- IN endpoints ---------------------------------------------------------------------------------------------------

  /** @internal */ async transferIn(h: EmulatorHandle, ep: number, length: number, timeoutMs: number): Promise<Uint8Array> {
    this.check(h, true);
    if (this.state !== 'app' || !this.queues.has(ep)) this.stall(`read from endpoint 0x${ep.toString(16)}`);
    if (this.hung) return this.hang(timeoutMs, `read from endpoint 0x${ep.toString(16)}`);
    if (this.takeFault((f) => f.kind === 'stall' && f.endpoint === ep)) this.stall(`read from endpoint 0x${ep.toString(16)}`);
    const ready = this.dequeue(ep, length);
    if (ready) return ready;
    return new Promise<Uint8Array>((resolve, reject) => {
      const w: Waiter = {
        length,
        resolve: (b) => { clearTimeout(t); resolve(b); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      const t = timeoutMs > 0
        ? setTimeout(() => {
            const ws = this.waiters.get(ep)!;
            const i = ws.indexOf(w);
            if (i >= 0) ws.splice(i, 1);
            reject(new UsbError('timeout', `Timed out: read from endpoint 0x${ep.toString(16)} on USB device ${this.path}.`, 'Re-plug the stick; if it keeps happening use a powered hub or another cable.'));
          }, timeoutMs)
        : undefined;
      this.waiters.get(ep)!.push(w);
    });
  }

  private dequeue(ep: number, length: number): Uint8Array | undefined {
    const q = this.queues.get(ep)!;
    const head = q[0];
    if (!head) return undefined;
    if (head.length <= length) {
      q.shift();
      return head;
    }
    q[0] = head.subarray(length);
    return head.subarray(0, length);
  }

  private push(ep: number, data: Uint8Array): void {
    if (ep === EP.output) {
      // The device sends outfeed_chunk_length × 8 byte packets.
      const chunk = this.outfeedChunk;
      for (let o = 0; o < data.length; o += chunk) this.queues.get(ep)!.push(data.subarray(o, o + chunk));
    } else this.queues.get(ep)!.push(data);
    this.pump(ep);
  }

  private pump(ep: number): void {
    const ws = this.waiters.get(ep)!;
    while (ws.length) {
      const d = this.dequeue(ep, ws[0]!.length);
      if (!d) return;
      ws.shift()!.resolve(d);
    }
  }

  private async pushAfterBusy(ep: number, data: Uint8Array): Promise<void> {
    const wait = this.busyUntil - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    this.push(ep, data);
  }

  private raiseInterrupt(word: number): void {
    if (word & INT.fatal) {
      this.csr.set(CSR.fatal_err_int_status, 1n);
      this.csr.set(CSR.hib_error_status, 0x1n);
      this.csr.set(CSR.hib_first_error_status, 0x1n);
      if (this.csr.get(CSR.fatal_err_int_control) !== 1n) return;
    }
    if (word & INT.thermalWarning) {
      this.csr.set(CSR.top_level_int_3_status, 1n);
      this.csr.set(CSR.omc0_dc, (this.csr.get(CSR.omc0_dc) ?? 0n) | 0x80000000n);
      if (this.csr.get(CSR.top_level_int_3_control) !== 1n) return;
    }
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, word, true);
    this.push(EP.interrupt, b);
  }

  // ---- Bulk OUT stream --------------------------------------------------------------------------------------------------

  /** @internal */ async transferOut(h: EmulatorHandle, ep: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    this.check(h, true);
    if (this.state !== 'app' || ep !== EP.bulkOut) this.stall(`write to endpoint 0x${ep.toString(16)}`);
    if (this.hung) return this.hang(timeoutMs, `write to endpoint 0x${ep.toString(16)}`);
    if (this.takeFault((f) => f.kind === 'stall' && f.endpoint === ep)) this.stall(`write to endpoint 0x${ep.toString(16)}`);
    const unplug = this.faults.find((f): f is Extract<Fault, { kind: 'unplug' }> => f.kind === 'unplug');
    if (unplug && this.bulkOutTotal + data.length >= unplug.afterBulkOutBytes) {
      this.takeFault((f) => f === unplug);
      await this.sleepMs(1);
      this.unplug();
      throw new UsbError('no-device', `The device at ${this.path} was unplugged during a write to endpoint 0x1.`, 'Re-plug the stick and retry.');
    }
    this.bulkOutTotal += data.length;
    this.bulkOutLog.push({ length: data.length, head: data.slice(0, 8) });
    // Link time: the transfer completes when its bytes have crossed the wire.
    const start = Math.max(performance.now(), this.busyUntil);
    this.busyUntil = start + (data.length / LINK_BYTES_PER_MS[this.speed]) * this.timeScale;
    const wait = this.busyUntil - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    this.consume(data);
    await this.work;
  }

  private consume(data: Uint8Array): void {
    let o = 0;
    while (o < data.length) {
      if (!this.payload) {
        this.streamHeader ??= new Uint8Array(HEADER_BYTES);
        const n = Math.min(HEADER_BYTES - this.streamHeaderFill, data.length - o);
        this.streamHeader.set(data.subarray(o, o + n), this.streamHeaderFill);
        this.streamHeaderFill += n;
        o += n;
        if (this.streamHeaderFill < HEADER_BYTES) return;
        const { length, tag } = decodeHeader(this.streamHeader);
        if (this.streamHeader[5] || this.streamHeader[6] || this.streamHeader[7] || tag > TAG.parameters) {
          this.fatal(`malformed bulk-out header ${[...this.streamHeader].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
          return;
        }
        this.streamHeader = undefined;
        this.streamHeaderFill = 0;
        this.payload = new Uint8Array(length);
        this.payloadFill = 0;
        this.payloadTag = tag;
        if (length === 0) this.finishRecord();
        continue;
      }
      const n = Math.min(this.payload.length - this.payloadFill, data.length - o);
      this.payload.set(data.subarray(o, o + n), this.payloadFill);
      this.payloadFill += n;
      o += n;
      if (this.payloadFill === this.payload.length) this.finishRecord();
    }
  }

  private finishRecord(): void {
    const payload = this.payload!;
    const tag = this.payloadTag;
    this.payload = undefined;
    this.records.push({ tag, length: payload.length });
    this.work = this.work.then(() => this.onRecord(tag, payload)).catch((e) => this.fatal(String((e as Error)?.message ?? e)));
  }

  /** A protocol violation: the chip raises a fatal-error interrupt (the host reads hib_error_status). */
  private fatal(why: string): void {
    this.stats.fatalErrors++;
    this.lastFatal = why;
    this.run = undefined;
    this.payload = undefined;
    this.streamHeader = undefined;
    this.streamHeaderFill = 0;
    this.raiseInterrupt(INT.fatal);
  }
  lastFatal: string | undefined;

  // ---- Execution -------------------------------------------------------------------------------------------------------

  private identify(instr: Uint8Array): { prog: LoadedProgram; exe: Executable; chunk: number } | undefined {
    for (const prog of this.programs)
      for (const exe of [prog.op.main, prog.op.caching].filter((e): e is Executable => !!e))
        for (const [chunk, b] of exe.bitstreams.entries()) {
          if (b.bitstream.length !== instr.length) continue;
          if (maskedHash(b.bitstream, b.fieldOffsets) === maskedHash(instr, b.fieldOffsets)) return { prog, exe, chunk };
        }
    return undefined;
  }

  private async onRecord(tag: number, payload: Uint8Array): Promise<void> {
    if (!this.running) return this.fatal('bulk-out data while the scalar core is not running (open sequence missing?)');
    if (tag === TAG.instructions) {
      const expected = this.run && this.run.exe.hints[this.run.hint];
      if (!(expected?.kind === 'instruction')) {
        const id = this.identify(payload);
        if (!id) return this.fatal(`unknown instruction stream (${payload.length} bytes)`);
        const first = id.exe.hints.findIndex((h) => h.kind === 'instruction' && h.chunk === id.chunk);
        this.run = { prog: id.prog, exe: id.exe, hint: first < 0 ? 0 : first, received: new Map(), bases: new Map(), emittedOutputs: new Set(), bytesIn: 0 };
      }
      const run = this.run!;
      const h = run.exe.hints[run.hint];
      if (h?.kind !== 'instruction' || run.exe.bitstreams[h.chunk]?.bitstream.length !== payload.length)
        return this.fatal(`instruction chunk of ${payload.length} bytes does not match the expected hint ${run.hint}`);
      for (const f of run.exe.bitstreams[h.chunk]!.fieldOffsets) {
        const key = `${f.meta.desc}:${f.meta.name ?? ''}`;
        const word = BigInt(readBits32(payload, f.offsetBit));
        const prev = run.bases.get(key) ?? 0n;
        run.bases.set(key, f.meta.position === 1 ? (prev & 0xffffffffn) | (word << 32n) : (prev & ~0xffffffffn) | word);
      }
      run.hint++;
      run.bytesIn += payload.length;
      return this.advance();
    }
    const run = this.run;
    const h = run?.exe.hints[run.hint];
    const want: BufferKind = tag === TAG.input ? 'input' : 'parameter';
    if (!run || h?.kind !== 'dma' || h.direction !== 'infeed' || (h.meta.desc !== want && !(want === 'input' && h.meta.desc === 'scratch')))
      return this.fatal(`unexpected ${want} data (${payload.length} bytes)${run ? ` at hint ${run.hint}` : ' with no program loaded'}`);
    if (payload.length !== h.size) return this.fatal(`${want} "${h.meta.name ?? ''}" of ${payload.length} bytes, the hint says ${h.size}`);
    if (h.meta.desc === 'input') {
      const name = h.meta.name ?? '';
      const layer = run.exe.inputLayers.find((l) => l.name === name);
      const buf = run.received.get(name) ?? new Uint8Array(Math.max(layer?.sizeBytes ?? 0, h.offset + h.size));
      buf.set(payload, h.offset);
      run.received.set(name, buf);
    }
    run.hint++;
    run.bytesIn += payload.length;
    return this.advance();
  }

  /** Runs the hints the device performs on its own (outfeed, interrupts, fences) until it needs host data. */
  private async advance(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const exe = run.exe;
    while (run.hint < exe.hints.length) {
      const h = exe.hints[run.hint]!;
      if (h.kind === 'instruction' || (h.kind === 'dma' && h.direction === 'infeed')) {
        if (this.descriptorsEnabled) this.requestDma(run, h);
        return;
      }
      if (h.kind === 'dma') {
        const data = await this.outputBytes(run, h.meta.desc, h.meta.name ?? '');
        if (this.descriptorsEnabled) await this.pushAfterBusy(EP.event, encodeEvent({ address: (run.bases.get(`${h.meta.desc}:${h.meta.name ?? ''}`) ?? 0n) + BigInt(h.offset), length: h.size, tag: TAG.output }));
        run.emittedOutputs.add(h.meta.name ?? '');
        await this.pushAfterBusy(EP.output, data.subarray(h.offset, h.offset + h.size));
      } else if (h.kind === 'interrupt') {
        await this.complete(run);
      }
      run.hint++;
    }
    // Non-deterministic executables: the rest of the DMAs are requested by the device through descriptors.
    if (!exe.fullyDeterministic && this.descriptorsEnabled) {
      for (const l of exe.outputLayers) {
        if (run.emittedOutputs.has(l.name)) continue;
        const data = await this.outputBytes(run, 'output', l.name);
        await this.pushAfterBusy(EP.event, encodeEvent({ address: run.bases.get(`output:${l.name}`) ?? 0n, length: l.sizeBytes, tag: TAG.output }));
        await this.pushAfterBusy(EP.output, data.subarray(0, l.sizeBytes));
      }
      await this.complete(run);
    }
    if (this.run === run) this.run = undefined;
  }

  private requestDma(run: RunState, h: Executable['hints'][number]): void {
    let e: DeviceEvent;
    if (h.kind === 'instruction') e = { address: BigInt(h.chunk), length: run.exe.bitstreams[h.chunk]!.bitstream.length, tag: TAG.instructions };
    else if (h.kind === 'dma') {
      const base = run.bases.get(`${h.meta.desc}:${h.meta.name ?? ''}`) ?? 0n;
      e = { address: base + BigInt(h.offset), length: h.size, tag: h.meta.desc === 'parameter' ? TAG.parameters : TAG.input };
    } else return;
    this.push(EP.event, encodeEvent(e));
  }

  private async complete(run: RunState): Promise<void> {
    const exe = run.exe;
    if (exe.type === 'PARAMETER_CACHING') {
      this.cachedToken = exe.parameterCachingToken;
      this.stats.cachingRuns++;
    } else this.stats.executions++;
    const cycles = exe.estimatedCycles;
    const computeMs = cycles > 0 ? cycles / (this.gcbMHz * 1000) : DEFAULT_COMPUTE_MS;
    this.busyUntil = Math.max(this.busyUntil, performance.now()) + computeMs * this.timeScale;
    const thermal = this.takeFault((f) => f.kind === 'thermal');
    if (thermal) this.raiseInterrupt(INT.thermalWarning);
    if (this.takeFault((f) => f.kind === 'fatal')) {
      this.fatal('injected fatal error');
      return;
    }
    await this.pushAfterBusy(EP.event, encodeEvent({ address: 0n, length: 0, tag: TAG.interrupt0 }));
  }

  /** The device-side bytes of an output (or scratch) buffer, computed once per run. */
  private async outputBytes(run: RunState, kind: BufferKind, name: string): Promise<Uint8Array> {
    if (kind !== 'output') return new Uint8Array(run.exe.scratchSizeBytes);
    if (!run.deviceOutputs) {
      run.deviceOutputs = new Map();
      const exe = run.exe;
      const cacheOk = exe.type !== 'EXECUTION_ONLY' || this.cachedToken === exe.parameterCachingToken;
      if (!cacheOk) this.stats.cacheMisses++;
      const { fromDeviceInputs } = await import('./compute.ts');
      const tensors = cacheOk ? await fromDeviceInputs(run.prog.spec, exe, run.received) : new Map<string, Uint8Array>();
      for (const l of exe.outputLayers) {
        const t = tensors.get(l.name);
        // Without parameters the real chip computes garbage: make that visible instead of plausible.
        run.deviceOutputs.set(l.name, t ? toDeviceOutput(t, l) : new Uint8Array(l.sizeBytes).fill(cacheOk ? 0 : 0xa5));
      }
    }
    return run.deviceOutputs.get(name) ?? new Uint8Array(0);
  }
}

function readBits32(b: Uint8Array, bit: number): number {
  let v = 0;
  for (let i = 0; i < 32; i++) {
    const p = bit + i;
    if ((b[p >> 3]! >> (p & 7)) & 1) v |= 1 << i;
  }
  return v >>> 0;
}

/** Hash of an instruction chunk with its relocated fields zeroed, so linked and unlinked streams compare equal. */
function maskedHash(b: Uint8Array, offsets: { offsetBit: number }[]): string {
  const c = b.slice();
  for (const f of offsets) for (let i = 0; i < 32; i++) { const p = f.offsetBit + i; c[p >> 3]! &= ~(1 << (p & 7)); }
  return createHash('sha1').update(c).digest('hex');
}

export class EmulatorHandle implements UsbDeviceHandle {
  private closed = false;
  constructor(private readonly stick: EmulatedCoralStick, readonly generation: number) {}
  get info(): UsbDeviceInfo {
    return this.stick.info();
  }
  deviceDescriptor(): Uint8Array {
    const id = this.stick.state === 'dfu' ? CORAL_DFU_ID : CORAL_APP_ID;
    return DEVICE_DESCRIPTOR(id.vendorId, id.productId, this.stick.speed);
  }
  private live(): void {
    if (this.closed) throw new UsbError('cancelled', `USB device ${this.stick.path} is closed.`);
  }
  async claimInterface(n: number): Promise<void> {
    this.live();
    if (n !== 0) throw new UsbError('io', `USB device ${this.stick.path} has no interface ${n}.`);
    this.stick.claim(this);
  }
  async releaseInterface(): Promise<void> {
    this.stick.release(this);
  }
  async controlIn(setup: ControlSetup, length: number, timeoutMs: number): Promise<Uint8Array> {
    this.live();
    return this.stick.control(this, setup, null, length, timeoutMs);
  }
  async controlOut(setup: ControlSetup, data: Uint8Array, timeoutMs: number): Promise<void> {
    this.live();
    await this.stick.control(this, setup, data, 0, timeoutMs);
  }
  async transferOut(endpoint: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    this.live();
    return this.stick.transferOut(this, endpoint, data, timeoutMs);
  }
  async transferIn(endpoint: number, length: number, timeoutMs: number): Promise<Uint8Array> {
    this.live();
    return this.stick.transferIn(this, endpoint, length, timeoutMs);
  }
  async reset(): Promise<void> {
    this.live();
    await this.stick.portReset(this);
    this.closed = true;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stick.release(this);
  }
}

export class EmulatorBackend implements UsbBackend {
  readonly name = 'emulator';
  constructor(readonly sticks: EmulatedCoralStick[] = []) {}
  add(stick: EmulatedCoralStick): void {
    this.sticks.push(stick);
    for (const l of this.listeners) stick.onChange(l);
  }
  private listeners = new Set<(c: UsbChange) => void>();
  async list(): Promise<UsbDevice[]> {
    return this.sticks.filter((s) => s.present).map((s) => ({ info: s.info(), open: async () => s.open() }));
  }
  onChange(listener: (c: UsbChange) => void): () => void {
    this.listeners.add(listener);
    const offs = this.sticks.map((s) => s.onChange(listener));
    return () => {
      this.listeners.delete(listener);
      offs.forEach((o) => o());
    };
  }
  stick(path: string): EmulatedCoralStick | undefined {
    return this.sticks.find((s) => s.path === path);
  }
}
