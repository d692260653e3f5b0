/**
 * The USB layer: a thin, promise-based wrapper over node-usb 2.x (3.x dropped the device list and hotplug API),
 * behind a small interface so the Edge TPU driver runs unchanged against real sticks and against the software
 * emulator (`test/emulator/`).
 *
 * - Devices are named by bus/port path (`1-2.3`): the Coral stick has no serial number and re-enumerates with a
 *   new address (and a new VID:PID) after firmware load, but always at the same port.
 * - Every transfer has a timeout; libusb errors become `UsbError`s that say what the user can do
 *   (permission → udev rule, busy → another program holds the stick, no USB subsystem → say so).
 * - `EDGEWISE_EMULATED_CORAL` (test-only, see docs/coral.md) swaps in the emulator backend for the CLI and app.
 */
import { existsSync, readFileSync } from 'node:fs';

export type LinkSpeed = 'low' | 'full' | 'high' | 'super' | 'unknown';

export interface UsbDeviceInfo {
  /** `<bus>-<port>[.<port>…]`, stable across re-enumeration. */
  path: string;
  busNumber: number;
  portNumbers: number[];
  vendorId: number;
  productId: number;
  speed: LinkSpeed;
}

export interface ControlSetup {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
}

/** An opened device. Every method rejects with a `UsbError`; none waits longer than its timeout. */
export interface UsbDeviceHandle {
  readonly info: UsbDeviceInfo;
  /** Raw device descriptor (18 bytes). */
  deviceDescriptor(): Uint8Array;
  claimInterface(n: number): Promise<void>;
  releaseInterface(n: number): Promise<void>;
  controlIn(setup: ControlSetup, length: number, timeoutMs: number): Promise<Uint8Array>;
  controlOut(setup: ControlSetup, data: Uint8Array, timeoutMs: number): Promise<void>;
  /** Bulk OUT; the whole buffer is sent or the promise rejects. */
  transferOut(endpoint: number, data: Uint8Array, timeoutMs: number): Promise<void>;
  /** Bulk or interrupt IN; resolves with up to `length` bytes (short packets are normal). */
  transferIn(endpoint: number, length: number, timeoutMs: number): Promise<Uint8Array>;
  /** USB port reset; the handle is unusable afterwards (the device re-enumerates at the same path). */
  reset(): Promise<void>;
  /** Cancels pending transfers, releases claimed interfaces and closes. Never throws. */
  close(): Promise<void>;
}

export interface UsbDevice {
  readonly info: UsbDeviceInfo;
  open(): Promise<UsbDeviceHandle>;
}

export interface UsbChange {
  type: 'attach' | 'detach';
  info: UsbDeviceInfo;
}

export interface UsbBackend {
  readonly name: string;
  list(): Promise<UsbDevice[]>;
  /** Hotplug notifications (raw, not debounced: see `watchDevices`). Returns the unsubscribe function. */
  onChange(listener: (change: UsbChange) => void): () => void;
}

// ---- Errors -------------------------------------------------------------------------------------------------

export type UsbErrorKind =
  | 'permission'
  | 'busy'
  | 'no-device'
  | 'timeout'
  | 'stall'
  | 'no-subsystem'
  | 'cancelled'
  | 'io';

/** USB IDs of the Coral USB Accelerator: boot ROM (DFU) and application (firmware loaded). */
export const CORAL_DFU_ID = { vendorId: 0x1a6e, productId: 0x089a } as const;
export const CORAL_APP_ID = { vendorId: 0x18d1, productId: 0x9302 } as const;

export const UDEV_RULE_FILE = '/etc/udev/rules.d/71-edgewise-coral.rules';
/** Both IDs are needed: after DFU the stick is a new device. `uaccess` needs a file sorting before 73-seat-late. */
export const UDEV_RULES =
  'SUBSYSTEM=="usb",ATTRS{idVendor}=="1a6e",ATTRS{idProduct}=="089a",MODE="0664",GROUP="plugdev",TAG+="uaccess"\n' +
  'SUBSYSTEM=="usb",ATTRS{idVendor}=="18d1",ATTRS{idProduct}=="9302",MODE="0664",GROUP="plugdev",TAG+="uaccess"\n';

export function udevFix(): string {
  return (
    `Allow your user to open the Coral stick (both of its USB IDs), then unplug and re-plug it:\n` +
    `  sudo tee ${UDEV_RULE_FILE} <<'EOF'\n${UDEV_RULES}EOF\n` +
    `  sudo udevadm control --reload-rules && sudo udevadm trigger\n` +
    `  sudo usermod -aG plugdev "$USER"   # then log out and back in (skip if your distribution has no plugdev group)`
  );
}

export class UsbError extends Error {
  constructor(
    readonly kind: UsbErrorKind,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'UsbError';
  }
}

/** libusb error numbers (stable across platforms). */
const LIBUSB = { IO: -1, ACCESS: -3, NO_DEVICE: -4, NOT_FOUND: -5, BUSY: -6, TIMEOUT: -7, PIPE: -9, INTERRUPTED: -10 };
/** libusb transfer status codes, reported by node-usb as `errno` for async transfers. */
const TRANSFER = { TIMED_OUT: 2, CANCELLED: 3, STALL: 4, NO_DEVICE: 5 };

/** Turns whatever node-usb threw into a `UsbError` that names the device, the operation and the fix. */
export function translateUsbError(err: unknown, where: string, path: string, isTransfer = false): UsbError {
  if (err instanceof UsbError) return err;
  const e = err as { errno?: number; message?: string };
  const n = e?.errno;
  const msg = e?.message ?? String(err);
  const on = `${where} on USB device ${path}`;
  if (n === LIBUSB.ACCESS) return new UsbError('permission', `Permission denied opening ${path} (${where}).`, udevFix());
  if (n === LIBUSB.BUSY)
    return new UsbError('busy', `The device at ${path} is busy: another program holds it (${where}).`,
      'Close the other program using the Coral stick (another Edgewise window, a Python/pycoral script, Frigate…), then retry.');
  if (n === LIBUSB.NO_DEVICE || (isTransfer && n === TRANSFER.NO_DEVICE) || n === LIBUSB.NOT_FOUND)
    return new UsbError('no-device', `The device at ${path} was unplugged or reset during ${where}.`, 'Re-plug the stick and retry.');
  if (n === LIBUSB.TIMEOUT || (isTransfer && n === TRANSFER.TIMED_OUT))
    return new UsbError('timeout', `Timed out: ${on}.`, 'Re-plug the stick; if it keeps happening use a powered hub or another cable.');
  if (n === LIBUSB.PIPE || (isTransfer && n === TRANSFER.STALL))
    return new UsbError('stall', `The device stalled: ${on}.`, 'Re-plug the stick and retry.');
  if (isTransfer && n === TRANSFER.CANCELLED) return new UsbError('cancelled', `Cancelled: ${on}.`);
  return new UsbError('io', `USB error (${msg}): ${on}.`, 'Re-plug the stick; check the cable and power.');
}

/** Rejects with a `UsbError('timeout')` if `p` has not settled within `ms` (our own guard on top of libusb's). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  if (!(ms > 0)) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout?.();
      reject(new UsbError('timeout', `Timed out after ${ms} ms: ${what}.`, 'Re-plug the stick; if it keeps happening use a powered hub or another cable.'));
    }, ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

// ---- node-usb backend ----------------------------------------------------------------------------------------

type NodeUsb = typeof import('usb');
type NodeDevice = import('usb').Device;

function pathOf(d: { busNumber: number; portNumbers?: number[] }): string {
  return `${d.busNumber}-${(d.portNumbers ?? []).join('.') || '0'}`;
}

/** Link speed from sysfs on Linux (node-usb 2.x does not expose libusb_get_device_speed). */
function linkSpeedOf(path: string): LinkSpeed {
  const f = `/sys/bus/usb/devices/${path}/speed`;
  try {
    if (!existsSync(f)) return 'unknown';
    const mbps = Number(readFileSync(f, 'utf8').trim());
    if (mbps >= 5000) return 'super';
    if (mbps >= 480) return 'high';
    if (mbps >= 12) return 'full';
    return 'low';
  } catch {
    return 'unknown';
  }
}

function infoOf(d: NodeDevice): UsbDeviceInfo {
  const path = pathOf(d);
  return {
    path,
    busNumber: d.busNumber,
    portNumbers: [...(d.portNumbers ?? [])],
    vendorId: d.deviceDescriptor.idVendor,
    productId: d.deviceDescriptor.idProduct,
    speed: linkSpeedOf(path),
  };
}

class NodeUsbHandle implements UsbDeviceHandle {
  private pending = new Set<{ cancel(): boolean }>();
  private claimed = new Set<number>();
  private closed = false;
  constructor(private readonly usb: NodeUsb, private readonly dev: NodeDevice, readonly info: UsbDeviceInfo) {}

  deviceDescriptor(): Uint8Array {
    const d = this.dev.deviceDescriptor;
    const b = new Uint8Array(18);
    const v = new DataView(b.buffer);
    b[0] = d.bLength; b[1] = d.bDescriptorType; v.setUint16(2, d.bcdUSB, true);
    b[4] = d.bDeviceClass; b[5] = d.bDeviceSubClass; b[6] = d.bDeviceProtocol; b[7] = d.bMaxPacketSize0;
    v.setUint16(8, d.idVendor, true); v.setUint16(10, d.idProduct, true); v.setUint16(12, d.bcdDevice, true);
    b[14] = d.iManufacturer; b[15] = d.iProduct; b[16] = d.iSerialNumber; b[17] = d.bNumConfigurations;
    return b;
  }

  async claimInterface(n: number): Promise<void> {
    try {
      const iface = this.dev.interface(n);
      if (!iface) throw new UsbError('io', `USB device ${this.info.path} has no interface ${n}.`);
      if (process.platform === 'linux' && iface.isKernelDriverActive()) iface.detachKernelDriver();
      iface.claim();
      this.claimed.add(n);
    } catch (e) {
      throw translateUsbError(e, `claiming interface ${n}`, this.info.path);
    }
  }

  async releaseInterface(n: number): Promise<void> {
    const iface = this.dev.interface(n);
    if (!iface || !this.claimed.has(n)) return;
    this.claimed.delete(n);
    await new Promise<void>((resolve) => iface.release(true, () => resolve()));
  }

  private control(setup: ControlSetup, dataOrLength: Buffer | number, timeoutMs: number, what: string): Promise<Buffer | undefined> {
    this.dev.timeout = timeoutMs;
    const p = new Promise<Buffer | undefined>((resolve, reject) => {
      this.dev.controlTransfer(setup.bmRequestType, setup.bRequest, setup.wValue, setup.wIndex, dataOrLength, (err, buf) => {
        if (err) reject(translateUsbError(err, what, this.info.path));
        else resolve(buf as Buffer | undefined);
      });
    });
    return withTimeout(p, timeoutMs + 1000, `${what} on ${this.info.path}`);
  }

  async controlIn(setup: ControlSetup, length: number, timeoutMs: number): Promise<Uint8Array> {
    const b = await this.control(setup, length, timeoutMs, `control read 0x${setup.bRequest.toString(16)}`);
    return new Uint8Array(b ?? new Uint8Array(0));
  }

  async controlOut(setup: ControlSetup, data: Uint8Array, timeoutMs: number): Promise<void> {
    await this.control(setup, Buffer.from(data), timeoutMs, `control write 0x${setup.bRequest.toString(16)}`);
  }

  private transfer(endpoint: number, buf: Buffer, timeoutMs: number): Promise<number> {
    if (this.closed) return Promise.reject(new UsbError('cancelled', `USB device ${this.info.path} is closed.`));
    const what = `${endpoint & 0x80 ? 'read from' : 'write to'} endpoint 0x${endpoint.toString(16)}`;
    let ep: import('usb').Endpoint | undefined;
    for (const iface of this.dev.interfaces ?? []) ep ??= iface.endpoint(endpoint);
    if (!ep) return Promise.reject(new UsbError('io', `USB device ${this.info.path} has no endpoint 0x${endpoint.toString(16)} (is the interface claimed?).`));
    return new Promise<number>((resolve, reject) => {
      const t = ep.makeTransfer(timeoutMs, (err, _b, actual) => {
        this.pending.delete(t);
        if (err) reject(translateUsbError(err, what, this.info.path, true));
        else resolve(actual);
      });
      this.pending.add(t);
      try {
        t.submit(buf);
      } catch (e) {
        this.pending.delete(t);
        reject(translateUsbError(e, what, this.info.path, true));
      }
    });
  }

  async transferOut(endpoint: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    const n = await this.transfer(endpoint, Buffer.from(data.buffer, data.byteOffset, data.byteLength), timeoutMs);
    if (n !== data.byteLength)
      throw new UsbError('io', `Short write to endpoint 0x${endpoint.toString(16)} on ${this.info.path}: ${n} of ${data.byteLength} bytes.`, 'Re-plug the stick and retry.');
  }

  async transferIn(endpoint: number, length: number, timeoutMs: number): Promise<Uint8Array> {
    const buf = Buffer.alloc(length);
    const n = await this.transfer(endpoint, buf, timeoutMs);
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  }

  async reset(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.dev.reset((err) => (err && err.errno !== LIBUSB.NOT_FOUND && err.errno !== LIBUSB.NO_DEVICE ? reject(translateUsbError(err, 'port reset', this.info.path)) : resolve())),
    );
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.pending) try { t.cancel(); } catch { /* already done */ }
    for (const n of [...this.claimed]) await this.releaseInterface(n).catch(() => undefined);
    try { this.dev.close(); } catch { /* already closed or gone */ }
    void this.usb;
  }
}

class NodeUsbBackend implements UsbBackend {
  readonly name = 'node-usb';
  constructor(private readonly usb: NodeUsb) {}

  async list(): Promise<UsbDevice[]> {
    let devs: NodeDevice[];
    try {
      devs = this.usb.getDeviceList();
    } catch (e) {
      throw new UsbError('no-subsystem', `Cannot list USB devices: ${(e as Error).message}.`, noSubsystemFix());
    }
    return devs.map((d) => {
      const info = infoOf(d);
      return {
        info,
        open: async () => {
          try {
            d.open();
          } catch (e) {
            throw translateUsbError(e, 'opening', info.path);
          }
          return new NodeUsbHandle(this.usb, d, info);
        },
      };
    });
  }

  onChange(listener: (change: UsbChange) => void): () => void {
    const attach = (d: NodeDevice) => listener({ type: 'attach', info: infoOf(d) });
    const detach = (d: NodeDevice) => listener({ type: 'detach', info: infoOf(d) });
    this.usb.usb.on('attach', attach);
    this.usb.usb.on('detach', detach);
    // Hotplug must not keep the CLI alive.
    this.usb.usb.unrefHotplugEvents?.();
    return () => {
      this.usb.usb.off('attach', attach);
      this.usb.usb.off('detach', detach);
    };
  }
}

function noSubsystemFix(): string {
  if (process.platform === 'linux') return 'This system has no USB subsystem (/sys/bus/usb is missing): in a container or VM, pass the USB device through (e.g. docker run --device /dev/bus/usb).';
  return 'Check that USB is available to this process.';
}

// ---- Backend selection ----------------------------------------------------------------------------------------

let backendPromise: Promise<UsbBackend> | undefined;

/**
 * The process-wide USB backend: node-usb, or the emulator when `EDGEWISE_EMULATED_CORAL` is set (test-only:
 * the emulator lives under test/ and is never part of a packaged app).
 */
export function getUsbBackend(): Promise<UsbBackend> {
  backendPromise ??= (async () => {
    const spec = process.env.EDGEWISE_EMULATED_CORAL;
    if (spec) {
      const url = new URL('../test/emulator/backend.ts', import.meta.url);
      const mod = (await import(url.href)) as { backendFromEnv(spec: string): Promise<UsbBackend> };
      return mod.backendFromEnv(spec);
    }
    let usb: NodeUsb;
    try {
      usb = await import('usb');
    } catch (e) {
      throw new UsbError('no-subsystem', `The USB library could not be loaded: ${(e as Error).message}.`, 'Reinstall Edgewise; on Linux make sure libudev1 is installed.');
    }
    return new NodeUsbBackend(usb);
  })();
  return backendPromise;
}

/** For tests: replace the process-wide backend. */
export function setUsbBackend(backend: UsbBackend | undefined): void {
  backendPromise = backend ? Promise.resolve(backend) : undefined;
}

/** Debounced hotplug: one callback after the bus has been quiet for `debounceMs` (a DFU load re-enumerates twice). */
export function watchDevices(backend: UsbBackend, onSettled: (changes: UsbChange[]) => void, debounceMs = 300): () => void {
  let batch: UsbChange[] = [];
  let timer: NodeJS.Timeout | undefined;
  const off = backend.onChange((c) => {
    batch.push(c);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const b = batch;
      batch = [];
      timer = undefined;
      onSettled(b);
    }, debounceMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    off();
  };
}

/** For `edgewise doctor`: can this process see USB devices at all? */
export async function probeUsb(): Promise<{ ok: boolean; detail: string; fix?: string }> {
  try {
    const backend = await getUsbBackend();
    if (backend.name === 'node-usb' && process.platform === 'linux' && !existsSync('/sys/bus/usb'))
      return { ok: false, detail: 'No USB subsystem: /sys/bus/usb does not exist on this machine.', fix: noSubsystemFix() };
    const devs = await backend.list();
    const corals = devs.filter((d) => isCoral(d.info));
    return {
      ok: true,
      detail: `${backend.name}: ${devs.length} USB device(s), ${corals.length} Coral stick(s)${corals.length ? ' at ' + corals.map((c) => c.info.path).join(', ') : ''}.`,
    };
  } catch (e) {
    const u = e instanceof UsbError ? e : translateUsbError(e, 'listing devices', '(bus)');
    return { ok: false, detail: u.message, fix: u.fix };
  }
}

export function isCoral(info: { vendorId: number; productId: number }): 'dfu' | 'app' | false {
  if (info.vendorId === CORAL_DFU_ID.vendorId && info.productId === CORAL_DFU_ID.productId) return 'dfu';
  if (info.vendorId === CORAL_APP_ID.vendorId && info.productId === CORAL_APP_ID.productId) return 'app';
  return false;
}
