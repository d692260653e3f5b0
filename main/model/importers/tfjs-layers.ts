/**
 * TF.js layers model (model.json + weight shards) → IR. The modelTopology is a Keras 2 config, lowered by the
 * shared keras-layers module; weights are found by their variable names (`<layer>/<weight>`).
 */
import { dirname } from 'node:path';
import type { Graph } from '../ir.ts';
import { lowerKerasModel } from './keras-layers.ts';
import type { KerasWeightSource } from './keras-layers.ts';
import { readTfjsWeights } from './tfjs-weights.ts';
import type { DecodedWeight, ManifestGroup } from './tfjs-weights.ts';
import { ModelImportError, asImportError } from '../errors.ts';

/**
 * Looks weights up by `<layer>/<name>` suffix, so both plain (`conv1/kernel`) and scoped names
 * (`model/conv1/kernel`, `conv1/kernel:0`) resolve. Shared with the legacy .h5 importer.
 */
export function nameWeightSource(all: Map<string, { shape: number[]; data: Float32Array }>, file: string): KerasWeightSource {
  const byName = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, v] of all) byName.set(k.replace(/:0$/, ''), v);
  return {
    get(path, _className, names) {
      return names.map((n) => {
        for (let i = 0; i < path.length; i++) {
          const exact = byName.get([...path.slice(i), n].join('/'));
          if (exact) return exact;
        }
        const suffix = `/${path[path.length - 1]}/${n}`;
        const matches = [...byName.keys()].filter((k) => `/${k}`.endsWith(suffix));
        if (matches.length > 1) throw new ModelImportError(file, `weight "${path.join('/')}/${n}" is ambiguous (${matches.join(', ')})`);
        return matches.length ? byName.get(matches[0]) : undefined;
      });
    },
  };
}

export function importTfjsLayers(json: any, modelFile: string): Graph {
  try {
    return importTfjsLayersCore(json, modelFile);
  } catch (e) {
    throw asImportError(modelFile, e);
  }
}

function importTfjsLayersCore(json: any, modelFile: string): Graph {
  const topo = json.modelTopology;
  const modelConfig = topo?.model_config ?? topo;
  if (!modelConfig?.class_name) throw new ModelImportError(modelFile, `modelTopology has no Keras model config`);
  const decoded = readTfjsWeights(dirname(modelFile), (json.weightsManifest ?? []) as ManifestGroup[], modelFile);
  const floats = new Map<string, { shape: number[]; data: Float32Array }>();
  const storedAs = new Set([...decoded.values()].map((w) => w.storedAs).filter((s): s is string => !!s));
  for (const [k, w] of decoded as Map<string, DecodedWeight>) {
    if (w.data instanceof Float32Array) floats.set(k, { shape: w.shape, data: w.data });
  }
  return lowerKerasModel(modelConfig, nameWeightSource(floats, modelFile), {
    file: modelFile,
    flavor: 'tfjs',
    metadata: {
      format: 'tfjs-layers',
      ...(topo?.keras_version ? { kerasVersion: String(topo.keras_version) } : {}),
      ...(json.generatedBy ? { producer: String(json.generatedBy) } : {}),
      ...(json.convertedBy ? { convertedBy: String(json.convertedBy) } : {}),
      ...(storedAs.size ? { weightQuantization: [...storedAs].join(',') } : {}),
    },
  });
}
