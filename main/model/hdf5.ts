/**
 * HDF5 via h5wasm's in-memory build: bytes in, File out (no host paths, so zip entries and disk files are read the
 * same way). One wasm instance per process; each file gets a unique MEMFS path removed on close.
 */
import { ModelImportError } from './errors.ts';
import type * as H5 from 'h5wasm';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
let counter = 0;
let module: Promise<typeof H5> | undefined;
let loaded: typeof H5 | undefined;

/** Loads the h5wasm module once; afterwards openHdf5Sync works. */
export async function ensureHdf5(): Promise<void> {
  loaded = await h5();
}

async function h5(): Promise<typeof H5> {
  module ??= (async () => {
    // The Emscripten glue binds its stderr printer (console.error) when the module is created. HDF5 prints its
    // error stack there for every corrupt file we reject (and we already turn those into clear Errors), so the
    // printer it binds drops HDF5-DIAG blocks and forwards anything else.
    const original = console.error;
    console.error = (...args: unknown[]) => {
      if (!/^(HDF5-DIAG|\s+#\d{3}:|\s+(major|minor):)/.test(String(args[0]))) original.apply(console, args);
    };
    try {
      // The namespace, not `default`: FS is a live binding that exists only on the module namespace.
      const lib = await import('h5wasm');
      await lib.ready;
      return lib;
    } finally {
      console.error = original;
    }
  })();
  return module;
}

export function isHdf5(bytes: Uint8Array): boolean {
  return HDF5_MAGIC.every((b, i) => bytes[i] === b);
}

export interface Hdf5Handle {
  file: H5.File;
  close(): void;
}

export async function openHdf5(bytes: Uint8Array, label: string): Promise<Hdf5Handle> {
  await ensureHdf5();
  return openHdf5Sync(bytes, label);
}

export function openHdf5Sync(bytes: Uint8Array, label: string): Hdf5Handle {
  if (!isHdf5(bytes)) throw new ModelImportError(label, `not an HDF5 file (bad signature)`);
  const lib = loaded;
  if (!lib) throw new Error('openHdf5Sync: call ensureHdf5() first');
  const path = `/edgewise-${process.pid}-${++counter}.h5`;
  lib.FS!.writeFile(path, bytes);
  let file: H5.File;
  try {
    file = new lib.File(path, 'r');
  } catch (e) {
    lib.FS!.unlink(path);
    throw new ModelImportError(label, `the HDF5 data cannot be opened (${e instanceof Error ? e.message : String(e)}); the file is corrupt or truncated`);
  }
  return {
    file,
    close() {
      file.close();
      lib.FS!.unlink(path);
    },
  };
}

/** Builds an HDF5 file in memory (fixture scripts) and returns its bytes. */
export async function writeHdf5(build: (f: H5.File) => void): Promise<Uint8Array> {
  const lib = await h5();
  const path = `/edgewise-out-${process.pid}-${++counter}.h5`;
  const f = new lib.File(path, 'w');
  try {
    build(f);
  } finally {
    f.close();
  }
  const bytes = lib.FS!.readFile(path) as Uint8Array;
  lib.FS!.unlink(path);
  return bytes;
}

/** Reads a float dataset as Float32Array with its shape, refusing absurd sizes before copying. */
export function readFloatDataset(f: H5.File | H5.Group, path: string, label: string): { shape: number[]; data: Float32Array } {
  const ds = f.get(path);
  if (!ds || (ds as H5.Dataset).shape === undefined) {
    throw new ModelImportError(label, `dataset "${path}" is missing`);
  }
  const d = ds as H5.Dataset;
  const shape = (d.shape ?? []).map(Number);
  const n = shape.reduce((a, x) => a * x, 1);
  if (n * 4 > 2 ** 31) throw new ModelImportError(label, `dataset "${path}" has shape [${shape}], too large to load (> 2 GiB)`);
  const v = d.value as unknown;
  if (v instanceof Float32Array) return { shape, data: v };
  if (v instanceof Float64Array || v instanceof Uint16Array || ArrayBuffer.isView(v)) {
    return { shape, data: Float32Array.from(v as unknown as ArrayLike<number>) };
  }
  if (typeof v === 'number') return { shape, data: Float32Array.of(v) };
  throw new ModelImportError(label, `dataset "${path}" is not numeric`);
}

/** An attribute as string(s), decoding bytes where h5py stored them as fixed-length bytes. */
export function attrStrings(obj: H5.Group | H5.Dataset | H5.File, name: string): string[] | undefined {
  const a = (obj.attrs as Record<string, { value: unknown }>)[name];
  if (!a) return undefined;
  const v = a.value;
  const one = (x: unknown): string => (x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x));
  return Array.isArray(v) ? v.map(one) : [one(v)];
}
