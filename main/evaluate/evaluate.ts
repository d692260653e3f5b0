/**
 * `evaluate`: accuracy (top-1, top-5 when there are more than 5 classes, confusion matrix) on labelled data and
 * agreement with a reference model (top-1 agreement, mean |Δ softmax|), all in the real TFLite runtime.
 */
import { basename } from 'node:path';
import { describePreprocessing, type Dataset } from '../data/index.ts';
import { loadAsTflite, predictTflite, type Predictions } from './predict.ts';
import { accuracy, agreement, type AccuracyReport, type AgreementReport } from './metrics.ts';
import { openDatasetFor, type DatasetArgs } from './dataset-args.ts';
import { badData, withCode } from './errors.ts';

export interface EvaluationReport {
  model: string;
  runtime: 'tflite-wasm';
  dataset: { location: string; kind: string; samples: number; labelled: boolean; preprocessing: string };
  accuracy?: AccuracyReport;
  reference?: { model: string; accuracy?: AccuracyReport; agreement: AgreementReport };
  msPerSample: number;
  warnings: string[];
}

export interface EvaluateOptions {
  reference?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Metrics for already computed predictions (used by the optimize pipeline too). */
export function scorePredictions(preds: Predictions, ds: Dataset): AccuracyReport | undefined {
  return ds.labels ? accuracy(preds.outputs, preds.width, ds.labels.subarray(0, preds.count)) : undefined;
}

export async function evaluateModel(modelPath: string, data: DatasetArgs, opts: EvaluateOptions = {}): Promise<EvaluationReport> {
  const model = await withCode('BAD_MODEL', () => loadAsTflite(modelPath));
  const ds = await withCode('BAD_DATA', () => openDatasetFor(model.graph, data));
  const preds = await predictTflite(model.bytes, ds, { signal: opts.signal, onProgress: opts.onProgress });
  const report: EvaluationReport = {
    model: basename(model.loaded.sourceFile), runtime: 'tflite-wasm',
    dataset: { location: ds.location, kind: ds.kind, samples: preds.count, labelled: !!ds.labels, preprocessing: describePreprocessing(ds.preprocessing) },
    msPerSample: preds.msPerSample, warnings: [...ds.warnings],
  };
  const acc = scorePredictions(preds, ds);
  if (acc) report.accuracy = acc;
  if (opts.reference) {
    const ref = await withCode('BAD_MODEL', () => loadAsTflite(opts.reference!));
    const refPreds = await predictTflite(ref.bytes, ds, { signal: opts.signal });
    if (refPreds.width !== preds.width) throw badData(`Reference ${opts.reference} has ${refPreds.width} outputs but ${modelPath} has ${preds.width}: they cannot be compared`);
    const refAcc = scorePredictions(refPreds, ds);
    report.reference = { model: basename(ref.loaded.sourceFile), ...(refAcc ? { accuracy: refAcc } : {}), agreement: agreement(refPreds.outputs, preds.outputs, preds.width) };
  }
  if (!ds.labels && !opts.reference) report.warnings.push('The data has no labels and no --reference was given: nothing to score');
  return report;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function formatEvaluation(r: EvaluationReport): string {
  const lines = [`${r.model} on ${r.dataset.location} (${r.dataset.samples} samples, TFLite runtime, ${r.msPerSample.toFixed(2)} ms/sample)`, `Preprocessing: ${r.dataset.preprocessing}`];
  if (r.accuracy) {
    lines.push(`Top-1 accuracy: ${pct(r.accuracy.top1)}${r.accuracy.top5 !== undefined ? `   top-5: ${pct(r.accuracy.top5)}` : ''}`);
    lines.push('Confusion matrix (rows = true class, columns = predicted):');
    for (const row of r.accuracy.confusion) lines.push('  ' + row.map((n) => String(n).padStart(5)).join(''));
  }
  if (r.reference) {
    const a = r.reference.agreement;
    lines.push(`Against ${r.reference.model}: top-1 agreement ${pct(a.top1Agreement)}, mean |Δ softmax| ${a.meanAbsDelta.toFixed(5)}, max ${a.maxAbsDelta.toFixed(4)}`);
    if (r.reference.accuracy && r.accuracy) lines.push(`Reference top-1 ${pct(r.reference.accuracy.top1)} → drop ${((r.reference.accuracy.top1 - r.accuracy.top1) * 100).toFixed(2)} points`);
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}
