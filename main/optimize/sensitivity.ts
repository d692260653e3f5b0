/**
 * Per-layer sensitivity of a quantized variant, measured in the REAL TFLite runtime: the int8 graph is exported
 * with every quantized activation as an extra output, run on check samples, dequantized and compared with the
 * float executor's value of the same tensor. Metrics (quantize/metrics.ts): SQNR in dB and RMSE / scale (the
 * TFLite QuantizationDebugger metric: ≈ 0.29 is pure rounding noise, > 0.7 is suspicious). Both accumulate along
 * the graph (as the debugger's) and would blame late layers for damage done upstream, so layers are ranked by the
 * SQNR they LOSE in the runtime (input SQNR − output SQNR). `localSqnrDb` (the float activation on the layer's own
 * output grid) separates range problems from weight/kernel problems in the report.
 *
 * `autoFallback` keeps the most sensitive layers in float (1, 2, 4, … of them) until an agreement or accuracy
 * target is met, producing a valid mixed float/int8 model.
 */
import type { Graph } from '../model/ir.ts';
import { Executor } from '../model/executor.ts';
import { exportTflite } from '../tflite/from-ir.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';
import { quantizeAffine, dequantizeAffine, fakeQuantize } from './quantize/math.ts';
import { RMSE_OVER_SCALE_SUSPICIOUS } from './quantize/metrics.ts';
import type { Dataset } from '../data/index.ts';
import { predictTflite } from '../evaluate/predict.ts';
import { accuracy, agreement } from '../evaluate/metrics.ts';

export interface LayerSensitivity {
  op: string;
  type: string;
  tensor: string;
  sqnrDb: number;
  /** SQNR of the op's input minus SQNR of its output in the runtime (NaN when the input was not measured). */
  sqnrLossDb: number;
  /**
   * SQNR of the float activation against itself on this op's int8 output grid: the error the layer's own range and
   * scale cause on exact inputs, independent of upstream damage. Low values point at a range problem, which a
   * float fallback cannot fix (the next int8 op requantizes to the same grid): change the calibration instead.
   */
  localSqnrDb: number;
  rmseOverScale: number;
  scale: number;
  /** rmseOverScale above the debugger's 0.7 threshold. */
  suspicious: boolean;
}

/** Per-layer errors over the first `samples` samples of `ds`, most sensitive (largest SQNR loss) first. */
export async function layerSensitivity(floatGraph: Graph, quantGraph: Graph, ds: Dataset, samples = 16): Promise<LayerSensitivity[]> {
  const producers = new Map<string, { op: string; type: string; inputs: string[] }>();
  for (const op of quantGraph.ops) for (const o of op.outputs) producers.set(o, { op: op.name, type: op.type, inputs: op.inputs });
  // Each measured int8 tensor and the float tensor holding the same value: op outputs keep their names; a QUANTIZE
  // of a float tensor measures how much the quantization of that tensor alone costs.
  const floatOf = new Map<string, string>();
  for (const [n, p] of producers) {
    const q = quantGraph.tensors.get(n);
    if (q?.dtype !== 'int8' || q.quant?.scale.length !== 1) continue;
    const f = p.type === 'QUANTIZE' ? p.inputs[0]! : n;
    const ft = floatGraph.tensors.get(f);
    if (ft?.dtype === 'float32' && !ft.data) floatOf.set(n, f);
  }
  const names = [...floatOf.keys()];
  if (!names.length) return [];
  const probe: Graph = { ...quantGraph, outputs: [...quantGraph.outputs, ...names.filter((n) => !quantGraph.outputs.includes(n))] };
  const it = await TfliteInterpreter.create(exportTflite(probe));
  const ex = new Executor(floatGraph);
  const n = Math.min(samples, ds.count);
  const signal = new Float64Array(names.length);
  const localNoise = new Float64Array(names.length);
  const noise = new Float64Array(names.length);
  const count = new Float64Array(names.length);
  const input = quantGraph.tensors.get(quantGraph.inputs[0]!)!;
  const inType = input.dtype === 'int8' || input.dtype === 'uint8' ? input.dtype : null;
  try {
    const x = await ds.batch(0, n);
    const floats = await ex.runData({ [floatGraph.inputs[0]!]: x }, { outputs: [...new Set(floatOf.values())] });
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
        const ref = floats[floatOf.get(name)!]!.data;
        const w = got.length;
        const params = { scale: tq.scale[0]!, zeroPoint: tq.zeroPoint[0]! };
        const local = fakeQuantize(ref.subarray(s * w, (s + 1) * w), params);
        for (let i = 0; i < w; i++) {
          const f = ref[s * w + i]!;
          signal[k] += f * f;
          noise[k] += (f - got[i]!) ** 2;
          localNoise[k] += (f - local[i]!) ** 2;
        }
        count[k] += w;
      });
    }
  } finally {
    it.dispose();
    ex.dispose();
  }
  // Same definitions as quantize/metrics.ts (sqnrDb, rmseOverScale), accumulated over samples.
  const sqnrOf = new Map(names.map((name, k) => [name, noise[k] === 0 ? Infinity : signal[k] === 0 ? -Infinity : 10 * Math.log10(signal[k]! / noise[k]!)]));
  const out: LayerSensitivity[] = [];
  names.forEach((name, k) => {
    const p = producers.get(name)!;
    if (p.type === 'QUANTIZE') return;
    const scale = quantGraph.tensors.get(name)!.quant!.scale[0]!;
    const sqnr = sqnrOf.get(name)!;
    const ros = Math.sqrt(noise[k]! / count[k]!) / scale;
    const inputs = p.inputs.map((i) => sqnrOf.get(i)).filter((v): v is number => v !== undefined);
    const inputSqnr = inputs.length ? Math.min(...inputs) : Infinity;
    const local = localNoise[k] === 0 ? Infinity : signal[k] === 0 ? -Infinity : 10 * Math.log10(signal[k]! / localNoise[k]!);
    out.push({
      op: p.op, type: p.type, tensor: name, sqnrDb: sqnr, localSqnrDb: local,
      sqnrLossDb: inputSqnr === Infinity ? NaN : inputSqnr - sqnr, rmseOverScale: ros, scale, suspicious: ros > RMSE_OVER_SCALE_SUSPICIOUS,
    });
  });
  // Most sensitive first: the SQNR the layer loses in the real runtime (its weights, kernel and output grid, not
  // upstream damage); layers without a measured input go last, ordered by their local SQNR.
  const lossOf = (l: LayerSensitivity) => (Number.isNaN(l.sqnrLossDb) ? -Infinity : l.sqnrLossDb);
  return out.sort((a, b) => lossOf(b) - lossOf(a) || a.localSqnrDb - b.localSqnrDb);
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
