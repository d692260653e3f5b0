/**
 * Seeds a history with many variants for the scale benchmarks (bench:history on the services, bench:ui in
 * Chromium): 5 models (the first with `bigModel` variants), metrics and a benchmark on each, and 16 artifacts
 * shared between variants (a real MobileNet .tflite among them, so compare parses op histograms).
 */
import { readFileSync } from 'node:fs';
import type { History } from '../../main/history/index.ts';
import type { ModelSummary } from '../../preload/contract.ts';

export interface Seeded {
  models: ModelSummary[];
  /** Every variant id, in insertion order. */
  ids: string[];
  /** The ids of the first model's variants. */
  bigIds: string[];
  sharedArtifacts: number;
}

export function seedHistory(h: History, total: number, bigModel = 1_200): Seeded {
  const models = Array.from({ length: 5 }, (_, i) => h.addModel({ name: `model-${i}`, format: 'keras', path: `/models/m${i}.keras`, sha256: String(i).repeat(64) }));
  const mobilenet = h.putArtifact(new Uint8Array(readFileSync(new URL('../../../shared/fixtures/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url))), 'tflite');
  const shared = [mobilenet, ...Array.from({ length: 15 }, (_, i) => h.putArtifact(new Uint8Array(1000 + i * 997).fill(i), 'tflite'))];
  const techniques = ['convert', 'float16', 'dynamic-range', 'int8', 'int8-edgetpu'];
  const ids: string[] = [];
  const bigIds: string[] = [];
  for (let i = 0; i < total; i++) {
    const model = i < bigModel ? models[0]! : models[1 + (i % 4)]!;
    const technique = techniques[i % techniques.length]!;
    const v = h.addVariant({
      modelId: model.id,
      name: `${technique} #${i}`,
      recipe: { technique, calibration: { method: ['minmax', 'mse', 'kl'][i % 3], samples: 100 + (i % 7) * 50 } },
      artifact: { artifactId: shared[i % shared.length]!.id },
      metrics: [{ name: 'accuracy', value: 0.9 + ((i * 7919) % 1000) / 10_000 }, { name: 'agreement', value: 0.95 + ((i * 104729) % 500) / 10_000 }],
      benchmarks: [{ runtime: 'tflite-wasm', coldMs: 10, warmMinMs: 1, warmP50Ms: 1 + (i % 50) / 10, warmP90Ms: 2 + (i % 50) / 10, warmP99Ms: 3, runs: 20 }],
    });
    ids.push(v.id);
    if (i < bigModel) bigIds.push(v.id);
  }
  return { models, ids, bigIds, sharedArtifacts: shared.length };
}
