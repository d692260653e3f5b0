/**
 * File-system IOHandlers for tfjs layers models in Node without tfjs-node (whose `file://` scheme we lack):
 * save a model as model.json + one weights.bin, and load a model.json with its shards for `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveInside } from './safe-path.ts';

export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData
        ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array(0);
      writeFileSync(join(dir, 'weights.bin'), weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** Loads model.json and its weight shards (paths must stay inside the model's folder). */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
      const dir = dirname(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: Uint8Array[] = [];
        for (const group of manifest) {
          for (const p of group.paths) buffers.push(readFileSync(resolveInside(dir, p, modelJsonPath)));
          specs.push(...group.weights);
        }
        const total = buffers.reduce((n, b) => n + b.byteLength, 0);
        const joined = new Uint8Array(total);
        let o = 0;
        for (const b of buffers) {
          joined.set(b, o);
          o += b.byteLength;
        }
        return [specs, joined.buffer];
      });
    },
  };
}
