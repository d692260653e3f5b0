/**
 * Reads a TF.js weightsManifest (shards next to model.json) into named float32 arrays, dequantizing weights the
 * tfjs converter quantized (uint8/uint16 affine with min/scale, float16). Shared by the layers and graph importers.
 */
import { readFileSync, statSync } from 'node:fs';
import { checkTensorSize } from '../builder.ts';
import { resolveInside } from '../safe-path.ts';
import { fromFloat16 } from '../float16.ts';
import { ModelImportError } from '../errors.ts';

export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

export interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

export interface DecodedWeight {
  /** Set when the tfjs converter stored the weight quantized (uint8/uint16/float16); data is dequantized. */
  storedAs?: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export function readTfjsWeights(modelDir: string, manifest: ManifestGroup[], modelFile: string): Map<string, DecodedWeight> {
  if (!Array.isArray(manifest)) throw new ModelImportError(modelFile, `weightsManifest is not a list`);
  const out = new Map<string, DecodedWeight>();
  for (const group of manifest) {
    const paths = (group.paths ?? []).map((p) => resolveInside(modelDir, p, modelFile));
    let total = 0;
    for (const p of paths) {
      try {
        total += statSync(p).size;
      } catch {
        throw new ModelImportError(modelFile, `weight shard "${p}" is missing`);
      }
    }
    // Check sizes before reading so a hostile manifest cannot make us allocate wildly.
    let need = 0;
    for (const w of group.weights) {
      const stored = w.quantization?.dtype ?? w.dtype;
      const bytes = STORED_BYTES[stored];
      if (!bytes) throw new ModelImportError(modelFile, `weight "${w.name}" has unsupported dtype "${stored}"`);
      need += checkTensorSize(`${modelFile}: weight "${w.name}"`, w.shape, 'float32') * bytes;
    }
    if (need > total) {
      throw new ModelImportError(modelFile, `the weight shards hold ${total} bytes but the manifest needs ${need}; the files are truncated or do not belong to this model`);
    }
    const buf = new Uint8Array(total);
    let o = 0;
    for (const p of paths) {
      const b = readFileSync(p);
      buf.set(b, o);
      o += b.byteLength;
    }
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, d) => a * d, 1);
      const q = w.quantization;
      const stored = q?.dtype ?? w.dtype;
      const bytes = n * STORED_BYTES[stored];
      const slice = buf.slice(offset, offset + bytes); // copy: aligned for typed-array views
      offset += bytes;
      let data: Float32Array | Int32Array | Uint8Array;
      if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
        const raw = q.dtype === 'uint8' ? slice : new Uint16Array(slice.buffer);
        const min = Number(q.min ?? 0);
        const scale = Number(q.scale ?? 1);
        const f = new Float32Array(n);
        for (let i = 0; i < n; i++) f[i] = raw[i] * scale + min;
        data = w.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
      } else if (q && q.dtype === 'float16') {
        data = fromFloat16(new Uint16Array(slice.buffer));
      } else if (w.dtype === 'float32') data = new Float32Array(slice.buffer);
      else if (w.dtype === 'int32') data = new Int32Array(slice.buffer);
      else data = slice;
      const dtype = w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32';
      out.set(w.name, { shape: [...w.shape], dtype, data, ...(q?.dtype ? { storedAs: q.dtype } : {}) });
    }
  }
  return out;
}
