/**
 * Legacy Keras (2.x / tf.keras) HDF5 model → IR. The root attribute `model_config` holds the model config JSON;
 * `model_weights/<layer>` groups list their datasets in the `weight_names` attribute (`<layer>/kernel:0`, …), stored
 * at `model_weights/<layer>/<weight_name>` (nested models: the group is the nested model, names are inner layers').
 */
import type * as H5 from 'h5wasm';
import type { Graph } from '../ir.ts';
import { attrStrings, openHdf5Sync, readFloatDataset } from '../hdf5.ts';
import { lowerKerasModel } from './keras-layers.ts';
import { nameWeightSource } from './tfjs-layers.ts';
import { importHdf5Model } from './hdf5-import.ts';
import { ModelImportError, asImportError } from '../errors.ts';

/** In a worker with a deadline: the HDF5 library can loop forever on a corrupt file (see hdf5-import.ts). */
export function importKerasH5(bytes: Uint8Array, file: string): Promise<Graph> {
  return importHdf5Model('h5', bytes, file);
}

/** Synchronous once ensureHdf5() has resolved; runs in the import worker (and the fuzz harness). */
export function importKerasH5Sync(bytes: Uint8Array, file: string): Graph {
  try {
    return importKerasH5Core(bytes, file);
  } catch (e) {
    throw asImportError(file, e, 'corrupt, truncated or not a Keras model');
  }
}

function importKerasH5Core(bytes: Uint8Array, file: string): Graph {
  const h = openHdf5Sync(bytes, file);
  try {
    const f = h.file;
    const cfgText = attrStrings(f, 'model_config')?.[0];
    if (!cfgText) {
      throw new ModelImportError(file, `this HDF5 file has no model_config attribute (a weights-only file?). ` +
        'Save the whole model with model.save("model.h5") or, better, model.save("model.keras")');
    }
    let config: any;
    try {
      config = JSON.parse(cfgText);
    } catch (e) {
      throw new ModelImportError(file, `model_config is not valid JSON (${e instanceof Error ? e.message : e})`);
    }
    const weightsRoot = (f.get('model_weights') as H5.Group | null) ?? f;
    const layerNames = attrStrings(weightsRoot, 'layer_names') ?? (weightsRoot as H5.Group).keys();
    const all = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const layer of layerNames) {
      const g = weightsRoot.get(layer) as H5.Group | null;
      if (!g) continue;
      for (const w of attrStrings(g, 'weight_names') ?? []) all.set(w, readFloatDataset(g, w, file));
    }
    return lowerKerasModel(config, nameWeightSource(all, file), {
      file,
      flavor: 'keras',
      metadata: {
        format: 'h5',
        ...(attrStrings(f, 'keras_version') ? { kerasVersion: attrStrings(f, 'keras_version')![0] } : {}),
      },
    });
  } finally {
    h.close();
  }
}
