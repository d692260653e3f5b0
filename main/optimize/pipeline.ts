/**
 * The optimize pipeline used by the CLI (`edgewise optimize`) and the 'optimize' job:
 *   import → calibrate → quantize → write → evaluate → benchmark → store.
 * Every number comes from the real TFLite runtime. Nothing touches the history before the last stage, and the
 * variant, its artifact, metrics, benchmark and reports are stored in ONE transaction (History.addVariant), so a
 * failure or cancel leaves nothing half-written. The float model is stored (once per model file) as the parent
 * variant, which gives the lineage model → float → variant.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Dataset } from '../data/index.ts';
import { datasetRecord } from '../data/index.ts';
import { openHistory } from '../history/index.ts';
import type { NewBenchmark, NewMetric } from '../history/types.ts';
import { loadAsTflite, predictTflite, type Predictions } from '../evaluate/predict.ts';
import { agreement, type AccuracyReport, type AgreementReport } from '../evaluate/metrics.ts';
import { scorePredictions } from '../evaluate/evaluate.ts';
import { benchmarkTflite, type BenchmarkResult } from '../evaluate/benchmark.ts';
import { openDatasetFor, type DatasetArgs } from '../evaluate/dataset-args.ts';
import { resolveRecipe, parseRecipe, type Recipe } from './recipe.ts';
import { buildVariant, type PtqReport } from './ptq/build.ts';
import { withCode } from '../evaluate/errors.ts';
import { recordSourceModel } from '../model/source-model.ts';

export const OPTIMIZE_STAGES = ['import', 'calibrate', 'quantize', 'write', 'evaluate', 'benchmark', 'store'] as const;
export type OptimizeStage = (typeof OPTIMIZE_STAGES)[number];

export interface OptimizeParams {
  model: string;
  /** Preset name, recipe file path, or a (partial) recipe object. */
  recipe: string | Record<string, unknown>;
  calibration?: DatasetArgs;
  eval?: DatasetArgs;
  /** Also write `<out>/<model>.<recipe>.tflite` and the report JSON there. */
  outDir?: string;
  benchmark?: { runs?: number; warmup?: number };
  /** Store in the history (default true). */
  store?: boolean;
}

export interface OptimizeContext {
  dataDir: string;
  signal?: AbortSignal;
  progress?: (stage: OptimizeStage, fraction: number, message?: string) => void;
}

export interface OptimizeResult {
  recipe: Recipe;
  model: string;
  sizes: { floatBytes: number; variantBytes: number; ratio: number };
  report: PtqReport;
  evaluation?: {
    dataset: string;
    samples: number;
    float?: AccuracyReport;
    variant?: AccuracyReport;
    accuracyDrop?: number;
    agreement: AgreementReport;
  };
  benchmark: { float: BenchmarkResult; variant: BenchmarkResult; p50Ratio: number };
  outFile?: string;
  stored?: { modelId: string; floatVariantId: string; variantId: string };
  warnings: string[];
}

function cancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw Object.assign(new Error('Optimization cancelled'), { code: 'CANCELLED' });
}

export async function runOptimize(p: OptimizeParams, ctx: OptimizeContext): Promise<OptimizeResult> {
  const progress = ctx.progress ?? (() => {});
  const recipe = await withCode('INVALID_ARGUMENT', () => (typeof p.recipe === 'string' ? resolveRecipe(p.recipe) : parseRecipe(p.recipe)));
  progress('import', 0, `loading ${p.model}`);
  const model = await withCode('BAD_MODEL', () => loadAsTflite(p.model));
  const warnings = [...model.loaded.warnings];
  let calibration: Dataset | undefined;
  if (p.calibration) calibration = await withCode('BAD_DATA', () => openDatasetFor(model.graph, p.calibration!));
  else if (recipe.technique === 'int8') {
    throw Object.assign(new Error(`Recipe "${recipe.name}" (full integer) needs a representative dataset: pass --calibration <dataset>`), { code: 'INVALID_ARGUMENT' });
  }
  const evalData = p.eval ? await withCode('BAD_DATA', () => openDatasetFor(model.graph, p.eval!)) : undefined;
  cancelled(ctx.signal);

  const built = await withCode(ctx.signal?.aborted ? 'CANCELLED' : 'UNSUPPORTED', () => buildVariant(model.graph, recipe, {
    calibration, check: evalData, signal: ctx.signal,
    progress: (stage, fraction, message) => progress(stage, fraction, message),
  }));
  warnings.push(...built.report.warnings);
  cancelled(ctx.signal);

  let evaluation: OptimizeResult['evaluation'];
  let floatPreds: Predictions | undefined;
  if (evalData) {
    progress('evaluate', 0, `${evalData.count} samples in the TFLite runtime`);
    warnings.push(...evalData.warnings.map((w) => `evaluation data: ${w}`));
    floatPreds = await predictTflite(model.bytes, evalData, { signal: ctx.signal, onProgress: (d, t) => progress('evaluate', (0.5 * d) / t) });
    const variantPreds = await predictTflite(built.bytes, evalData, { signal: ctx.signal, onProgress: (d, t) => progress('evaluate', 0.5 + (0.5 * d) / t) });
    const fAcc = scorePredictions(floatPreds, evalData);
    const vAcc = scorePredictions(variantPreds, evalData);
    evaluation = {
      dataset: evalData.location, samples: variantPreds.count,
      ...(fAcc ? { float: fAcc } : {}), ...(vAcc ? { variant: vAcc } : {}),
      ...(fAcc && vAcc ? { accuracyDrop: fAcc.top1 - vAcc.top1 } : {}),
      agreement: agreement(floatPreds.outputs, variantPreds.outputs, floatPreds.width),
    };
  }
  cancelled(ctx.signal);

  progress('benchmark', 0, 'float model');
  const runs = p.benchmark?.runs ?? 30;
  const warmup = p.benchmark?.warmup ?? 3;
  const floatBench = await benchmarkTflite(model.bytes, { runs, warmup, signal: ctx.signal });
  progress('benchmark', 0.5, recipe.name);
  const variantBench = await benchmarkTflite(built.bytes, { runs, warmup, signal: ctx.signal });
  cancelled(ctx.signal);

  const name = basename(model.loaded.sourceFile).replace(/\.(tflite|keras|h5|json)$/i, '');
  const result: OptimizeResult = {
    recipe, model: model.loaded.sourceFile,
    sizes: { floatBytes: model.bytes.length, variantBytes: built.bytes.length, ratio: built.bytes.length / model.bytes.length },
    report: built.report, ...(evaluation ? { evaluation } : {}),
    benchmark: { float: floatBench, variant: variantBench, p50Ratio: variantBench.warmP50Ms / floatBench.warmP50Ms },
    warnings,
  };

  if (p.outDir) {
    const dir = resolve(p.outDir);
    mkdirSync(dir, { recursive: true });
    result.outFile = join(dir, `${name === 'model' ? basename(resolve(model.loaded.sourceFile, '..')) : name}.${recipe.name}.tflite`);
    writeFileSync(result.outFile, built.bytes);
    writeFileSync(result.outFile.replace(/\.tflite$/, '.report.json'), JSON.stringify({ ...result, outFile: result.outFile }, null, 2));
  }

  if (p.store !== false) {
    progress('store', 0);
    cancelled(ctx.signal);
    result.stored = storeResult(ctx.dataDir, model, result, built.bytes, calibration, evalData);
  }
  progress('store', 1, 'done');
  return result;
}

function benchmarkRecord(b: BenchmarkResult): NewBenchmark {
  return {
    runtime: b.runtime, coldMs: b.coldMs, warmMinMs: b.warmMinMs, warmP50Ms: b.warmP50Ms, warmP90Ms: b.warmP90Ms,
    warmP99Ms: b.warmP99Ms, runs: b.runs, environment: { threads: b.threads, warmup: b.warmup, ...b.machine },
  };
}

/**
 * One dataset row per dataset: a later run on the same data (same location, kind, count, preprocessing) reuses
 * its row, so the variants' metrics share a dataset id and compare side by side.
 */
function sameOrNewDataset(h: ReturnType<typeof openHistory>, d: ReturnType<typeof datasetRecord>): { id: string } {
  const key = (x: { name?: string | null; kind: string; location: string; sampleCount: number; preprocessing?: unknown }) =>
    JSON.stringify([x.name ?? x.location, x.kind, x.location, x.sampleCount, x.preprocessing ?? {}]);
  return h.listDatasets().find((x) => key(x) === key(d)) ?? h.addDataset(d);
}

function storeResult(
  dataDir: string, model: Awaited<ReturnType<typeof loadAsTflite>>, r: OptimizeResult, bytes: Uint8Array,
  calibration: Dataset | undefined, evalData: Dataset | undefined,
): { modelId: string; floatVariantId: string; variantId: string } {
  const h = openHistory(dataDir);
  // One transaction: the model, datasets, float parent and the variant appear together or not at all.
  try {
    return h.transaction(() => {
    // The same record the wizard's import step (models.inspect) and `edgewise convert` make: one model per source file content.
    const m = recordSourceModel(h, model.loaded);
    const evalRecord = evalData ? sameOrNewDataset(h, datasetRecord(evalData)) : undefined;
    if (calibration) sameOrNewDataset(h, datasetRecord(calibration, 'calibration'));
    let floatVariant = h.variantsOfModel(m.id).find((v) => v.name === 'float' && v.parentId === null);
    const floatMetrics: NewMetric[] = [];
    if (r.evaluation?.float) floatMetrics.push({ name: 'accuracy', value: r.evaluation.float.top1, datasetId: evalRecord?.id ?? null });
    if (!floatVariant) {
      floatVariant = h.addVariant({
        modelId: m.id, name: 'float', recipe: { technique: 'float32' }, artifact: { source: model.bytes, kind: 'tflite' },
        metrics: floatMetrics, benchmarks: [benchmarkRecord(r.benchmark.float)],
      });
    } else if (floatMetrics.length) {
      h.addMetrics(floatVariant.id, floatMetrics);
    }
    const metrics: NewMetric[] = [{ name: 'size_ratio', value: r.sizes.ratio }];
    const ev = r.evaluation;
    if (ev?.variant) {
      metrics.push({ name: 'accuracy', value: ev.variant.top1, datasetId: evalRecord?.id ?? null });
      if (ev.variant.top5 !== undefined) metrics.push({ name: 'top5', value: ev.variant.top5, datasetId: evalRecord?.id ?? null });
    }
    if (ev) {
      metrics.push({ name: 'top1_agreement', value: ev.agreement.top1Agreement, datasetId: evalRecord?.id ?? null });
      metrics.push({ name: 'mean_abs_delta_softmax', value: ev.agreement.meanAbsDelta, datasetId: evalRecord?.id ?? null });
    }
    const variant = h.addVariant({
      modelId: m.id, parentId: floatVariant.id, name: r.recipe.name, recipe: r.recipe,
      artifact: { source: bytes, kind: r.recipe.integerOnly ? 'tflite-int8-edgetpu-ready' : 'tflite' },
      metrics, benchmarks: [benchmarkRecord(r.benchmark.variant)],
      reports: { ptq: r.report, ...(ev ? { evaluation: ev } : {}), ...(r.report.sensitivity ? { sensitivity: r.report.sensitivity } : {}) },
    });
    return { modelId: m.id, floatVariantId: floatVariant.id, variantId: variant.id };
    });
  } finally {
    h.close();
  }
}
