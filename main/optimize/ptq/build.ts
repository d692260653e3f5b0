/**
 * Builds one PTQ variant from a float graph and a recipe: (equalize) → calibrate → select ranges → quantize →
 * (sensitivity + automatic float fallback) → write the .tflite. Returns the bytes, the final IR and a report
 * saying exactly what was done (method, samples, which ops stayed float and why, timings).
 */
import { optimizeForExport } from '../../model/passes.ts';
import type { Graph } from '../../model/ir.ts';
import { exportTflite } from '../../tflite/from-ir.ts';
import { describePreprocessing, type Dataset } from '../../data/index.ts';
import type { Recipe } from '../recipe.ts';
import { quantizeFloat16 } from './float16.ts';
import { quantizeDynamicRangeGraph } from './dynamic-range.ts';
import { quantizeInt8, type OpDecision } from './int8.ts';
import { calibrate, checkDatasetFits, rangesFor } from './calibrate.ts';
import { equalizeGraph, type EqualizationReport } from './equalize.ts';
import { denseAsConv } from './dense-as-conv.ts';
import { autoFallback, layerSensitivity, type FallbackStep, type LayerSensitivity } from '../sensitivity.ts';
import { predictTflite } from '../../evaluate/predict.ts';
import type { RangeMethod } from '../quantize/calibration.ts';

export type BuildStage = 'calibrate' | 'quantize' | 'write';

export interface BuildOptions {
  /** Representative data (required for int8). */
  calibration?: Dataset;
  /** Data for the fallback check (default: the calibration data). */
  check?: Dataset;
  signal?: AbortSignal;
  progress?: (stage: BuildStage, fraction: number, message?: string) => void;
}

export interface PtqReport {
  technique: Recipe['technique'];
  recipe: string;
  calibration?: {
    method: RangeMethod['kind'];
    percentile?: number;
    samples: number;
    dataset: string;
    preprocessing: string;
    floatForwardMs: number;
    observeMs: number;
    rangeSearchMs: number;
  };
  quantizedOps?: number;
  floatOps?: OpDecision[];
  equalization?: EqualizationReport;
  /** FULLY_CONNECTED ops written as 1×1 CONV_2D. */
  denseAsConv?: string[];
  sensitivity?: LayerSensitivity[];
  fallback?: { met: boolean; steps: FallbackStep[] };
  warnings: string[];
  timings: { calibrateMs: number; quantizeMs: number; writeMs: number; totalMs: number };
}

export interface BuildResult {
  graph: Graph;
  bytes: Uint8Array;
  report: PtqReport;
}

const WEIGHT_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);

export function rangeMethodOf(recipe: Recipe): RangeMethod {
  const m = recipe.calibration.method;
  return m === 'percentile' ? { kind: 'percentile', percentile: recipe.calibration.percentile } : { kind: m };
}

/** `floatGraph` may be straight from an importer: the standard export passes run first (idempotent). */
export async function buildVariant(floatGraph: Graph, recipe: Recipe, opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  let graph = optimizeForExport(floatGraph);
  const warnings: string[] = [];
  const report: PtqReport = { technique: recipe.technique, recipe: recipe.name, warnings, timings: { calibrateMs: 0, quantizeMs: 0, writeMs: 0, totalMs: 0 } };
  let out: Graph;
  if (recipe.technique === 'float16') {
    out = quantizeFloat16(graph);
  } else if (recipe.technique === 'dynamic-range') {
    out = quantizeDynamicRangeGraph(graph, recipe.weights.dynamicRangeMinElements);
  } else {
    const ds = opts.calibration;
    if (!ds) throw new Error(`Recipe "${recipe.name}" (full integer) needs a representative dataset: pass --calibration <dataset>`);
    checkDatasetFits(graph, ds);
    warnings.push(...ds.warnings.map((w) => `calibration data: ${w}`));
    if (recipe.weights.denseAsConv) {
      const d = denseAsConv(graph);
      graph = d.graph;
      report.denseAsConv = d.rewritten;
    }
    if (recipe.equalization) {
      const eq = equalizeGraph(graph);
      graph = eq.graph;
      report.equalization = eq.report;
    }
    const tc = performance.now();
    const meansOf = recipe.biasCorrection ? graph.ops.filter((o) => WEIGHT_OPS.has(o.type)).map((o) => o.inputs[0]!) : undefined;
    const run = await calibrate(graph, ds, {
      limit: recipe.calibration.samples, signal: opts.signal, meansOf,
      onProgress: (done, total) => opts.progress?.('calibrate', done / total, `${done}/${total} samples`),
    });
    const tr = performance.now();
    const method = rangeMethodOf(recipe);
    const ranges = rangesFor(run, method);
    const rangeSearchMs = performance.now() - tr;
    report.timings.calibrateMs = performance.now() - tc;
    report.calibration = {
      method: method.kind, ...(method.kind === 'percentile' ? { percentile: method.percentile } : {}), samples: run.samples,
      dataset: ds.location, preprocessing: describePreprocessing(ds.preprocessing),
      floatForwardMs: run.floatMs, observeMs: run.observeMs, rangeSearchMs,
    };
    opts.progress?.('quantize', 0, `${method.kind} ranges for ${ranges.size} tensors`);
    const tq = performance.now();
    const build = (floatOps: ReadonlySet<string>) => quantizeInt8(graph, {
      ranges, perChannel: recipe.weights.perChannel, perChannelDense: recipe.weights.perChannelDense,
      inputType: recipe.io.input, outputType: recipe.io.output, integerOnly: recipe.integerOnly, floatOps,
      inputMeans: recipe.biasCorrection ? run.means : undefined,
    });
    let q = build(new Set(recipe.fallback.mode === 'manual' ? recipe.fallback.floatOps : []));
    for (const name of recipe.fallback.mode === 'manual' ? recipe.fallback.floatOps : []) {
      if (!graph.ops.some((o) => o.name === name)) throw new Error(`Recipe fallback.floatOps names op "${name}", which is not in the model`);
    }
    report.timings.quantizeMs = performance.now() - tq;
    out = q.graph;
    // Every int8 variant gets its per-layer sensitivity (16 samples: one export, one pass); the automatic
    // fallback ranks layers by it.
    const check = opts.check ?? ds;
    opts.progress?.('quantize', 0.3, 'measuring per-layer sensitivity in the TFLite runtime');
    const sens = await layerSensitivity(graph, q.graph, check, 16);
    report.sensitivity = sens;
    if (recipe.fallback.mode === 'auto') {
      const checkSamples = Math.min(check.count, 200);
      const floatPreds = await predictTflite(exportTflite(graph), check, { limit: checkSamples, signal: opts.signal });
      const fb = await autoFallback({
        build: (ops) => build(ops).graph, ranking: sens, check, checkSamples, floatOutputs: floatPreds.outputs, width: floatPreds.width,
        minAgreement: recipe.fallback.minAgreement, maxAccuracyDrop: recipe.fallback.maxAccuracyDrop, maxFloatOps: recipe.fallback.maxFloatOps,
        signal: opts.signal, onStep: (s) => opts.progress?.('quantize', 0.6, `${s.floatOps.length} float ops: agreement ${(s.top1Agreement * 100).toFixed(1)}%`),
      });
      report.fallback = { met: fb.met, steps: fb.steps };
      if (!fb.met) warnings.push(`Automatic fallback did not reach the target with ${fb.floatOps.length} float ops (max ${recipe.fallback.maxFloatOps}); the best mixed model found is kept`);
      q = build(new Set(fb.floatOps));
      out = q.graph;
    }
    warnings.push(...q.warnings);
    report.quantizedOps = q.decisions.filter((d) => d.quantized).length;
    report.floatOps = q.decisions.filter((d) => !d.quantized);
  }
  opts.progress?.('write', 0);
  const tw = performance.now();
  const bytes = exportTflite(out, { description: `Edgewise ${recipe.name}` });
  report.timings.writeMs = performance.now() - tw;
  report.timings.totalMs = performance.now() - t0;
  return { graph: out, bytes, report };
}
