/**
 * Keras 3 `.keras` archive → IR. The archive is a zip holding config.json (the model config), metadata.json
 * (keras_version, date_saved) and model.weights.h5, where each layer's variables sit at
 * `layers/<snake_case(class)>[_n]/vars/<i>` in creation order — addressed by position and class, not layer name
 * (nested models: `layers/functional/layers/dense/vars/<i>`); see kerasV3WeightPaths.
 */
import { unzipSync } from 'fflate';
import type { Graph } from '../ir.ts';
import { MAX_TENSOR_BYTES } from '../builder.ts';
import { openHdf5Sync, readFloatDataset } from '../hdf5.ts';
import { lowerKerasModel } from './keras-layers.ts';
import type { KerasWeightSource } from './keras-layers.ts';
import { importHdf5Model } from './hdf5-import.ts';
import { ModelImportError, asImportError } from '../errors.ts';

const NEEDED = ['config.json', 'metadata.json', 'model.weights.h5'];

/** Extracts the entries we read, refusing path tricks and decompression bombs before inflating anything. */
export function readKerasZip(bytes: Uint8Array, file: string): Record<string, Uint8Array> {
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.startsWith('/') || f.name.split(/[\\/]/).includes('..')) {
          throw new ModelImportError(file, `zip entry "${f.name}" escapes the archive folder; refusing this file`);
        }
        if (!NEEDED.includes(f.name)) return false;
        total += f.originalSize;
        if (f.originalSize > MAX_TENSOR_BYTES || total > 2 * MAX_TENSOR_BYTES) {
          throw new ModelImportError(file, `zip entry "${f.name}" claims ${f.originalSize} bytes uncompressed; refusing absurd sizes`);
        }
        return true;
      },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(file)) throw e;
    throw new ModelImportError(file, `not a readable .keras archive (zip error: ${msg}); the file is corrupt or truncated`);
  }
  for (const n of ['config.json', 'model.weights.h5']) {
    if (!entries[n]) throw new ModelImportError(file, `the .keras archive has no ${n}; save the model with model.save("name.keras")`);
  }
  return entries;
}

/** In a worker with a deadline: the HDF5 library can loop forever on a corrupt file (see hdf5-import.ts). */
export function importKerasV3(bytes: Uint8Array, file: string): Promise<Graph> {
  return importHdf5Model('keras', bytes, file);
}

/** Synchronous once ensureHdf5() has resolved; runs in the import worker (and the fuzz harness). */
export function importKerasV3Sync(bytes: Uint8Array, file: string): Graph {
  try {
    return importKerasV3Core(bytes, file);
  } catch (e) {
    throw asImportError(file, e, 'corrupt, truncated or not a Keras model');
  }
}

function importKerasV3Core(bytes: Uint8Array, file: string): Graph {
  const entries = readKerasZip(bytes, file);
  let config: any;
  let metadata: any = {};
  try {
    config = JSON.parse(new TextDecoder().decode(entries['config.json']));
    if (entries['metadata.json']) metadata = JSON.parse(new TextDecoder().decode(entries['metadata.json']));
  } catch (e) {
    throw new ModelImportError(file, `config.json or metadata.json is not valid JSON (${e instanceof Error ? e.message : e})`);
  }
  const h = openHdf5Sync(entries['model.weights.h5'], `${file}!model.weights.h5`);
  try {
    const paths = kerasV3WeightPaths(config);
    const source: KerasWeightSource = {
      get(path, _className, names) {
        const base = paths.get(path.join('/'));
        if (!base) return names.map(() => undefined);
        // Keras 2.13 wrote the same tree under `_layer_checkpoint_dependencies` (Keras's loader falls back the same way).
        for (const root of [base, base.replaceAll('layers', '_layer_checkpoint_dependencies')]) {
          const vars = h.file.get(`${root}/vars`) as { keys(): string[] } | null;
          if (!vars || typeof vars.keys !== 'function') continue;
          const count = vars.keys().length;
          if (count !== names.length) {
            throw new ModelImportError(file, `layer "${path.join('/')}" has ${count} weights at ${root}/vars in model.weights.h5, its config implies ${names.length} (${names.join(', ')})`);
          }
          return names.map((_, i) => readFloatDataset(h.file, `${root}/vars/${i}`, file));
        }
        return names.map(() => undefined);
      },
    };
    return lowerKerasModel(config, source, {
      file,
      flavor: 'keras',
      metadata: { format: 'keras', ...(metadata.keras_version ? { kerasVersion: String(metadata.keras_version) } : {}) },
    });
  } finally {
    h.close();
  }
}

/** Keras's `naming.to_snake_case` (e.g. Conv2D → conv2d, BatchNormalization → batch_normalization, ReLU → re_lu). */
export function kerasSnakeCase(className: string): string {
  return className.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * Where each layer's weights live in model.weights.h5. Keras 3 addresses layers by position, NOT by name: each
 * model's `layers` list is saved as `layers/<snake_case(class)>[_<n>]`, the counter running per class name in list
 * order (keras/src/saving/saving_lib.py, _save_container_state). Returns "outer/inner" layer-name paths → h5 paths.
 */
export function kerasV3WeightPaths(config: any): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (model: any, namePrefix: string[], h5Prefix: string) => {
    const layers: any[] = Array.isArray(model?.config) ? model.config : model?.config?.layers ?? [];
    const used = new Map<string, number>();
    for (const l of layers) {
      // Sequential.layers leaves out its InputLayer (Functional keeps it; it has no weights either way).
      if (model.class_name === 'Sequential' && l.class_name === 'InputLayer') continue;
      const base = kerasSnakeCase(String(l.class_name));
      const n = used.get(base);
      used.set(base, n === undefined ? 0 : n + 1);
      const seg = n === undefined ? base : `${base}_${n + 1}`;
      const name = String(l.name ?? l.config?.name);
      const h5 = `${h5Prefix}layers/${seg}`;
      out.set([...namePrefix, name].join('/'), h5);
      if (['Functional', 'Sequential', 'Model'].includes(l.class_name)) walk(l, [...namePrefix, name], `${h5}/`);
    }
  };
  walk(config, [], '');
  return out;
}
