/**
 * The Coral USB firmware (`apex_latest_single_ep.bin`, 10,783 bytes of 8051 code) is never shipped with
 * Edgewise. It comes from a file the user points to, or from inside an installed libedgetpu (where it is
 * compiled in as a byte array), and is accepted only if its SHA-256 matches the known image.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIRMWARE_SINGLE_EP } from './protocol.ts';

export interface Firmware {
  bytes: Uint8Array;
  /** Where it came from (a path, "libedgetpu at …", or "emulator test image"). */
  origin: string;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export const FIRMWARE_FIX =
  'Point Edgewise to apex_latest_single_ep.bin (from the google-coral/libedgetpu repository, driver/usb/) with --firmware <file> ' +
  'or EDGEWISE_CORAL_FIRMWARE=<file>, or install the Edge TPU runtime (package libedgetpu1-std), which contains it.';

/** Reads and verifies a firmware file; throws an Error naming the file and both hashes when it is not the image. */
export function readFirmwareFile(path: string): Firmware {
  if (!existsSync(path)) throw Object.assign(new Error(`Firmware file ${path} does not exist.`), { code: 'NOT_FOUND', hint: FIRMWARE_FIX });
  const bytes = new Uint8Array(readFileSync(path));
  const got = sha256(bytes);
  if (got !== FIRMWARE_SINGLE_EP.sha256)
    throw Object.assign(
      new Error(`${path} is not the Coral USB firmware: its SHA-256 is ${got} (${bytes.length} bytes), expected ${FIRMWARE_SINGLE_EP.sha256} (${FIRMWARE_SINGLE_EP.size} bytes, apex_latest_single_ep.bin).`),
      { code: 'INVALID_ARGUMENT', hint: FIRMWARE_FIX },
    );
  return { bytes, origin: path };
}

/** Finds the image inside a binary (libedgetpu embeds it with xxd -i): every "02 1e 57" start, checked by hash. */
export function extractFirmware(binary: Uint8Array): Uint8Array | undefined {
  const n = FIRMWARE_SINGLE_EP.size;
  for (let i = binary.indexOf(0x02); i >= 0 && i + n <= binary.length; i = binary.indexOf(0x02, i + 1)) {
    if (binary[i + 1] !== 0x1e || binary[i + 2] !== 0x57) continue;
    const slice = binary.subarray(i, i + n);
    if (sha256(slice) === FIRMWARE_SINGLE_EP.sha256) return slice.slice();
  }
  return undefined;
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib/arm-linux-gnueabihf', '/usr/lib', '/usr/local/lib', '/opt/homebrew/lib'];

export function libedgetpuCandidates(): string[] {
  const out: string[] = [];
  for (const d of LIB_DIRS) {
    if (!existsSync(d)) continue;
    try {
      for (const f of readdirSync(d)) if (/^libedgetpu\.(so|\d).*|^edgetpu\.dll$/.test(f)) out.push(join(d, f));
    } catch { /* unreadable dir */ }
  }
  return out;
}

/** Explicit file → $EDGEWISE_CORAL_FIRMWARE → an installed libedgetpu. Returns undefined with the reason. */
export function findFirmware(file?: string): { firmware?: Firmware; detail: string; fix?: string } {
  const path = file ?? process.env.EDGEWISE_CORAL_FIRMWARE;
  if (path) return { firmware: readFirmwareFile(path), detail: `firmware from ${path}` };
  for (const lib of libedgetpuCandidates()) {
    try {
      const fw = extractFirmware(new Uint8Array(readFileSync(lib)));
      if (fw) return { firmware: { bytes: fw, origin: `libedgetpu at ${lib}` }, detail: `firmware found inside ${lib}` };
    } catch { /* unreadable */ }
  }
  return { detail: 'No Coral USB firmware found (no --firmware file, no EDGEWISE_CORAL_FIRMWARE, no libedgetpu with the image).', fix: FIRMWARE_FIX };
}

/** A deterministic stand-in image for the emulator (which accepts any bytes and only checks the DFU protocol). */
export function syntheticTestFirmware(size: number = FIRMWARE_SINGLE_EP.size): Uint8Array {
  const b = new Uint8Array(size);
  b.set([0x02, 0x1e, 0x57]);
  for (let i = 3; i < size; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}
