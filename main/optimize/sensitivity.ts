/**
 * Per-layer sensitivity of a quantized variant, measured in the REAL TFLite runtime: the int8 graph is exported
 * with every quantized activation as an extra output, run on check samples, dequantized and compared with the
 * float executor's value of the same tensor. Metrics (quantize/metrics.ts): SQNR in dB and RMSE / scale (the
 * TFLite QuantizationDebugger metric: ≈ 0.29 is pure rounding noise, > 0.7 is suspicious). Errors accumulate
 * along the graph, as in the debugger's layer metrics, so a layer is blamed for its output as the model sees it.
 *
 * `autoFallback` keeps the most sensitive layers in float (1, 2, 4, … of them) until an agreement or accuracy
 * target is met, producing a valid mixed float/int8 model.
 */
import type { Graph } from '../model/ir.ts';
import { Executor } from '../model/executor.ts';
import { exportTflite } from '../tflite/from-ir.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';
import { quantizeAffine, dequantizeAffine } from './quantize/math.ts';
import { RMSE_OVER_SCALE_SUSPICIOUS } from './quantize/metrics.ts';
import type { Dataset } from '../data/index.ts';
import { predictTflite } from '../evaluate/predict.ts';
import { accuracy, agreement } from '../evaluate/metrics.ts';

export interface LayerSensitivity {
  op: string;
  type: string;
  tensor: string;
  sqnrDb: number;
  rmseOverScale: number;
  scale: number;
  /** rmseOverScale above the debugger's 0.7 threshold. */
  suspicious: boolean;
}

/** Per-layer errors over the first `samples` samples of `ds`, most sensitive (highest RMSE/scale) first. */
export async function layerSensitivity(floatGraph: Graph, quantGraph: Graph, ds: Dataset, samples = 16): Promise<LayerSensitivity[]> {
  const producers = new Map<string, { op: string; type: string }>();
  for (const op of quantGraph.ops) for (const o of op.outputs) producers.set(o, { op: op.name, type: op.type });
  const names = [...producers.keys()].filter((n) => {
    const q = quantGraph.tensors.get(n);
    const f = floatGraph.tensors.get(n);
    const p = producers.get(n)!;
    return q?.dtype === 'int8' && q.quant?.scale.length === 1 && f?.dtype === 'float32' && !f.data && p.type !== 'QUANTIZE';
  });
  if (!names.length) return [];
  const probe: Graph = { ...quantGraph, outputs: [...quantGraph.outputs, ...names.filter((n) => !quantGraph.outputs.includes(n))] };
  const it = await TfliteInterpreter.create(exportTflite(probe));
  const ex = new Executor(floatGraph);
  const n = Math.min(samples, ds.count);
  const signal = new Float64Array(names.length);
  const noise = new Float64Array(names.length);
  const count = new Float64Array(names.length);
  const input = quantGraph.tensors.get(quantGraph.inputs[0]!)!;
  const inType = input.dtype === 'int8' || input.dtype === 'uint8' ? input.dtype : null;
  try {
    const x = await ds.batch(0, n);
    const floats = await ex.runData({ [floatGraph.inputs[0]!]: x }, { outputs: names });
    const per = x.length / n;
    for (let s = 0; s < n; s++) {
      const sample = x.subarray(s * per, (s + 1) * per);
      const q = input.quant;
      it.setInput(0, inType && q ? quantizeAffine(sample, { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0]! }, inType) : sample);
      it.invoke();
      names.forEach((name, k) => {
        const outIdx = probe.outputs.indexOf(name);
        const tq = quantGraph.tensors.get(name)!.quant!;
        const got = dequantizeAffine(it.output(outIdx), { scale: tq.scale[0]!, zeroPoint: tq.zeroPoint[0]! });
        const ref = floats[name]!.data;
        const w = got.length;
        for (let i = 0; i < w; i++) {
          const f = ref[s * w + i]!;
          signal[k] += f * f;
          noise[k] += (f - got[i]!) ** 2;
        }
        count[k] += w;
      });
    }
  } finally {
    it.dispose();
    ex.dispose();
  }
  // Same definitions as quantize/metrics.ts (sqnrDb, rmseOverScale), accumulated over samples.
  const out = names.map((name, k): LayerSensitivity => {
    const scale = quantGraph.tensors.get(name)!.quant!.scale[0]!;
    const sqnr = noise[k] === 0 ? Infinity : signal[k] === 0 ? -Infinity : 10 * Math.log10(signal[k]! / noise[k]!);
    const ros = Math.sqrt(noise[k]! / count[k]!) / scale;
    const p = producers.get(name)!;
    return { op: p.op, type: p.type, tensor: name, sqnrDb: sqnr, rmseOverScale: ros, scale, suspicious: ros > RMSE_OVER_SCALE_SUSPICIOUS };
  });
  return out.sort((a, b) => b.rmseOverScale - a.rmseOverScale);
}

export interface FallbackStep {
  floatOps: string[];
  top1Agreement: number;
  meanAbsDelta: number;
  accuracy?: number;
  met: boolean;
}

export interface FallbackResult {
  graph: Graph;
  floatOps: string[];
  met: boolean;
  steps: FallbackStep[];
}

export interface FallbackOptions {
  /** Builds the mixed graph with these ops kept float. */
  build(floatOps: ReadonlySet<string>): Graph;
  ranking: LayerSensitivity[];
  check: Dataset;
  checkSamples: number;
  /** Float model outputs on the check samples (reference for agreement). */
  floatOutputs: Float32Array;
  width: number;
  minAgreement: number;
  maxAccuracyDrop: number;
  maxFloatOps: number;
  signal?: AbortSignal;
  onStep?: (step: FallbackStep) => void;
}

/** Smallest prefix (1, 2, 4, …) of the ranking kept in float that meets the target. */
export async function autoFallback(o: FallbackOptions): Promise<FallbackResult> {
  const labels = o.check.labels?.subarray(0, o.checkSamples);
  const floatAcc = labels ? accuracy(o.floatOutputs, o.width, labels).top1 : undefined;
  const steps: FallbackStep[] = [];
  // Ops, most sensitive first, without repeats (one op can produce several measured tensors).
  const order = [...new Set(o.ranking.map((r) => r.op))];
  let k = 0;
  for (;;) {
    if (o.signal?.aborted) throw new Error('Fallback search cancelled');
    const floatOps = order.slice(0, k);
    const graph = o.build(new Set(floatOps));
    const preds = await predictTflite(exportTflite(graph), o.check, { limit: o.checkSamples, signal: o.signal });
    const agr = agreement(o.floatOutputs, preds.outputs, o.width);
    const acc = labels ? accuracy(preds.outputs, o.width, labels).top1 : undefined;
    // Labelled check data: the accuracy target decides; otherwise agreement with the float model.
    const met = acc !== undefined && floatAcc !== undefined ? floatAcc - acc <= o.maxAccuracyDrop : agr.top1Agreement >= o.minAgreement;
    const step: FallbackStep = { floatOps, top1Agreement: agr.top1Agreement, meanAbsDelta: agr.meanAbsDelta, ...(acc !== undefined ? { accuracy: acc } : {}), met };
    steps.push(step);
    o.onStep?.(step);
    const next = k === 0 ? 1 : k * 2;
    if (met || k >= Math.min(o.maxFloatOps, order.length)) return { graph, floatOps, met, steps };
    k = Math.min(next, o.maxFloatOps, order.length);
  }
}
