/**
 * Full-integer PTQ as a graph rewrite: float graph + calibrated activation ranges → int8 graph following the
 * TFLite int8 spec (main/optimize/quantize/spec.ts is the one source of the per-op rules).
 *
 *  - Weights: int8 symmetric narrow range, per-channel (conv dim 0, depthwise dim 3, FC dim 0) or per-tensor.
 *  - Bias: int32, scale = input scale × weight scale[c], zero point 0.
 *  - Activations: int8 asymmetric per tensor from the calibrated range; fixed params for SOFTMAX/LOGISTIC/TANH…;
 *    same-scale ops inherit their input's params; CONCATENATION-like ops get a requantize (QUANTIZE int8→int8)
 *    on inputs whose params differ from the output's.
 *  - Ops without an int8 rule, or listed in `floatOps` (sensitivity fallback), stay float: DEQUANTIZE before them,
 *    QUANTIZE after them. With `integerOnly` (Edge TPU) such an op is an error naming the op and the reason.
 *  - Model I/O: float (QUANTIZE/DEQUANTIZE at the edges), int8, or uint8 (zero point shifted by 128, plus a
 *    requantize to int8 inside, as the converter does).
 * Tensor names: a tensor keeps its name in the domain its producer computes it in; cross-domain copies are
 * `<name>_int8` / `<name>_float`. Graph inputs and outputs keep their names (the signature does not change).
 */
import { cloneGraph, validateGraph, type Graph, type Op, type Tensor } from '../../model/ir.ts';
import { activationParams, dequantizeWeights, quantizeAffine, quantizeBias, quantizeWeightsPerChannel, quantizeWeightsPerTensor, type AffineParams } from '../quantize/math.ts';
import { expectedOutputShift, type WeightLayout } from '../quantize/bias-correction.ts';
import { activationInputIndices, ruleFor, type OpRule } from '../quantize/spec.ts';
import type { Range } from '../quantize/calibration.ts';
import { consumersOf, floatData, freshOpName, freshTensorName } from './rewrite.ts';

export type IoType = 'float32' | 'int8' | 'uint8';

export interface Int8Options {
  /** Calibrated clip range per float tensor (graph inputs and op outputs). */
  ranges: ReadonlyMap<string, Range>;
  /** Per-channel weights for CONV_2D / DEPTHWISE_CONV_2D (default true). */
  perChannel?: boolean;
  /** Per-channel FULLY_CONNECTED weights (default: same as perChannel). */
  perChannelDense?: boolean;
  inputType?: IoType;
  outputType?: IoType;
  /** Op names kept in float (mixed model). */
  floatOps?: ReadonlySet<string>;
  /** Edge TPU / integer-only targets: any op that would stay float is an error. */
  integerOnly?: boolean;
  /**
   * Bias correction: per-channel means of the float input of each CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
   * (keyed by the float tensor name, from calibration). The expected output shift E[(W_q − W)·x] is subtracted
   * from the bias before it is quantized.
   */
  inputMeans?: ReadonlyMap<string, ArrayLike<number>>;
}

export interface OpDecision {
  op: string;
  type: string;
  quantized: boolean;
  /** Why the op stays float. */
  reason?: string;
}

export interface Int8Result {
  graph: Graph;
  decisions: OpDecision[];
  warnings: string[];
}

type QP = { scale: number; zeroPoint: number };
type Domain = 'float' | 'int8' | 'uint8';
const SUPPORTED_FUSED = new Set(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1']);

/** Why `op` cannot be quantized (undefined when it can). */
export function int8Blocker(graph: Graph, op: Op): string | undefined {
  const rule = ruleFor(op.type);
  if (!rule || op.type === 'QUANTIZE' || op.type === 'DEQUANTIZE') return `TFLite has no int8 kernel for ${op.type} in the int8 spec`;
  const act = String(op.attrs.fusedActivationFunction ?? 'NONE');
  if (!SUPPORTED_FUSED.has(act)) return `fused activation ${act} has no int8 form`;
  for (const i of activationInputIndices(rule, op)) {
    const t = op.inputs[i] ? graph.tensors.get(op.inputs[i]) : undefined;
    if (t && t.dtype !== 'float32') return `input "${t.name}" is ${t.dtype}, not a float activation`;
  }
  if (rule.weight) {
    const w = graph.tensors.get(op.inputs[rule.weight.input] ?? '');
    if (!w?.data || w.dtype !== 'float32') return `weight input "${op.inputs[rule.weight.input] ?? ''}" is not a float constant`;
  }
  if (rule.bias !== undefined) {
    const b = op.inputs[rule.bias] ? graph.tensors.get(op.inputs[rule.bias]) : undefined;
    if (b && (!b.data || b.dtype !== 'float32')) return `bias "${b.name}" is not a float constant`;
  }
  for (const o of op.outputs) {
    const t = graph.tensors.get(o);
    if (rule.output.kind !== 'not-quantized' && t && t.dtype !== 'float32') return `output "${o}" is ${t.dtype}, not float`;
  }
  return undefined;
}

export function quantizeInt8(source: Graph, opts: Int8Options): Int8Result {
  const g = cloneGraph(source);
  const perChannel = opts.perChannel ?? true;
  const perChannelDense = opts.perChannelDense ?? perChannel;
  const inputType = opts.inputType ?? 'float32';
  const outputType = opts.outputType ?? 'float32';
  const warnings: string[] = [];
  const decisions: OpDecision[] = [];
  const opNames = new Set(g.ops.map((o) => o.name));
  const readers = consumersOf(source);
  const ops: Op[] = [];
  const domain = new Map<string, Domain>();
  const int8Of = new Map<string, string>();
  const floatOf = new Map<string, string>();
  const quantizedWeights = new Map<string, string>();

  const rangeOf = (name: string, why: string): Range => {
    const r = opts.ranges.get(name);
    if (!r) throw new Error(`No calibration range for tensor "${name}" (${why}); calibrate on data that reaches it`);
    return r;
  };
  const paramsOf = (name: string, why: string): AffineParams => {
    const r = rangeOf(name, why);
    return activationParams(r.min, r.max, 'int8');
  };
  const setQuant = (t: Tensor, dtype: 'int8' | 'uint8', p: QP, range?: Range) => {
    t.dtype = dtype;
    t.quant = { scale: [p.scale], zeroPoint: [p.zeroPoint], ...(range ? { min: [range.min], max: [range.max] } : {}) };
  };
  const qp = (name: string): QP => {
    const q = g.tensors.get(name)!.quant!;
    return { scale: q.scale[0], zeroPoint: q.zeroPoint[0] };
  };
  const emit = (type: 'QUANTIZE' | 'DEQUANTIZE', from: string, to: string, base: string) =>
    ops.push({ name: freshOpName(opNames, base), type, inputs: [from], outputs: [to], attrs: {} });

  /** An int8 tensor holding `name`'s value (the tensor itself, a QUANTIZE of it, or a quantized constant). */
  const int8Version = (name: string, consumer: Op): string => {
    const t = g.tensors.get(name)!;
    const known = int8Of.get(name);
    if (known) return known;
    if (t.data) {
      if (t.dtype !== 'float32') throw new Error(`Op "${consumer.name}" (${consumer.type}): constant "${name}" is ${t.dtype}, cannot use it as an int8 activation`);
      const data = floatData(t);
      let lo = 0, hi = 0;
      for (const v of data) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const p = activationParams(lo, hi, 'int8');
      const q = freshTensorName(g, `${name}_int8`);
      g.tensors.set(q, { name: q, shape: [...t.shape], dtype: 'int8', data: quantizeAffine(data, p, 'int8'), quant: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
      int8Of.set(name, q);
      return q;
    }
    const d = domain.get(name) ?? 'float';
    if (d === 'int8') return name;
    const q = freshTensorName(g, `${name}_int8`);
    const p = d === 'uint8' ? { scale: qp(name).scale, zeroPoint: qp(name).zeroPoint - 128 } : paramsOf(name, `input of "${consumer.name}"`);
    const range = d === 'float' ? rangeOf(name, consumer.name) : undefined;
    g.tensors.set(q, { name: q, shape: [...t.shape], dtype: 'int8' });
    setQuant(g.tensors.get(q)!, 'int8', p, range);
    emit('QUANTIZE', name, q, `${name}/quantize`);
    domain.set(q, 'int8');
    int8Of.set(name, q);
    return q;
  };
  /** A float tensor holding `name`'s value. */
  const floatVersion = (name: string): string => {
    const t = g.tensors.get(name)!;
    if (t.data || (domain.get(name) ?? 'float') === 'float') return name;
    const known = floatOf.get(name);
    if (known) return known;
    const f = freshTensorName(g, `${name}_float`);
    g.tensors.set(f, { name: f, shape: [...t.shape], dtype: 'float32' });
    emit('DEQUANTIZE', name, f, `${name}/dequantize`);
    domain.set(f, 'float');
    floatOf.set(name, f);
    return f;
  };

  // Graph inputs in the requested I/O type.
  for (const name of g.inputs) {
    const t = g.tensors.get(name)!;
    if (t.dtype !== 'float32') throw new Error(`Graph input "${name}" is ${t.dtype}; full-integer quantization needs a float model`);
    if (inputType === 'float32') { domain.set(name, 'float'); continue; }
    const range = rangeOf(name, 'graph input');
    const p = activationParams(range.min, range.max, 'int8');
    if (inputType === 'int8') setQuant(t, 'int8', p, range);
    else setQuant(t, 'uint8', { scale: p.scale, zeroPoint: p.zeroPoint + 128 }, range);
    domain.set(name, inputType);
  }

  for (const op of g.ops) {
    const blocker = opts.floatOps?.has(op.name) ? 'kept in float (sensitivity fallback)' : int8Blocker(source, op);
    if (blocker) {
      if (opts.integerOnly) throw new Error(`Integer-only (Edge TPU) quantization: op "${op.name}" (${op.type}) cannot be quantized: ${blocker}`);
      op.inputs = op.inputs.map((n) => (n ? floatVersion(n) : n));
      for (const o of op.outputs) domain.set(o, 'float');
      ops.push(op);
      decisions.push({ op: op.name, type: op.type, quantized: false, reason: blocker });
      continue;
    }
    const rule = ruleFor(op.type)!;
    const actIdx = activationInputIndices(rule, op);
    const floatInput = op.inputs[actIdx[0]];
    for (const i of actIdx) if (op.inputs[i]) op.inputs[i] = int8Version(op.inputs[i], op);
    const firstIn = op.inputs[actIdx[0]];
    if (rule.weight) quantizeWeightAndBias(op, rule, floatInput);
    const outP = outputParams(op, rule, firstIn);
    for (const o of op.outputs) {
      const t = g.tensors.get(o)!;
      if (rule.output.kind === 'not-quantized') { domain.set(o, 'float'); continue; }
      setQuant(t, 'int8', outP.p, outP.range);
      domain.set(o, 'int8');
    }
    if (rule.inputsShareOutputParams) {
      for (const i of actIdx) {
        const inName = op.inputs[i];
        if (!inName) continue;
        const ip = qp(inName);
        if (ip.scale === outP.p.scale && ip.zeroPoint === outP.p.zeroPoint) continue;
        const rq = freshTensorName(g, `${inName}_requantized`);
        g.tensors.set(rq, { name: rq, shape: [...g.tensors.get(inName)!.shape], dtype: 'int8' });
        setQuant(g.tensors.get(rq)!, 'int8', outP.p);
        emit('QUANTIZE', inName, rq, `${op.name}/requantize_${i}`);
        op.inputs[i] = rq;
      }
    }
    ops.push(op);
    decisions.push({ op: op.name, type: op.type, quantized: true });
  }

  function outputParams(op: Op, rule: OpRule, firstIn: string): { p: QP; range?: Range } {
    if (rule.output.kind === 'fixed') return { p: rule.output.int8 };
    // Shared-params ops (CONCATENATION) own a calibrated range; their inputs are requantized to it.
    if (rule.output.kind === 'same-as-input' && !rule.inputsShareOutputParams) return { p: qp(firstIn) };
    const range = rangeOf(op.outputs[0], `output of "${op.name}"`);
    return { p: activationParams(range.min, range.max, 'int8'), range };
  }

  function quantizeWeightAndBias(op: Op, rule: OpRule, floatInput: string): void {
    const wr = rule.weight!;
    const wName = op.inputs[wr.input];
    const w = source.tensors.get(wName)!;
    const axisWanted = wr.axis !== undefined && (op.type === 'FULLY_CONNECTED' ? perChannelDense : perChannel) ? wr.axis : undefined;
    const key = `${wName}\u0000${axisWanted ?? 'tensor'}`;
    let qName = quantizedWeights.get(key);
    if (!qName) {
      const data = floatData(w);
      const q = axisWanted === undefined || w.shape[axisWanted] === 1 ? quantizeWeightsPerTensor(data) : quantizeWeightsPerChannel(data, w.shape, axisWanted);
      qName = (readers.get(wName)?.length ?? 0) > 1 ? freshTensorName(g, `${wName}_int8`) : wName;
      g.tensors.set(qName, {
        name: qName, shape: [...w.shape], dtype: 'int8', data: q.data,
        quant: { scale: q.scales, zeroPoint: q.zeroPoints, ...(q.scales.length > 1 ? { axis: q.axis } : {}) },
      });
      quantizedWeights.set(key, qName);
    }
    op.inputs[wr.input] = qName;
    if (rule.bias === undefined || !op.inputs[rule.bias]) return;
    const bName = op.inputs[rule.bias];
    const b = source.tensors.get(bName)!;
    const inScale = qp(op.inputs[activationInputIndices(rule, op)[0]]).scale;
    const wq = g.tensors.get(qName)!.quant!;
    let bias = floatData(b);
    const mean = opts.inputMeans?.get(floatInput);
    if (mean && (op.type === 'CONV_2D' || op.type === 'DEPTHWISE_CONV_2D' || op.type === 'FULLY_CONNECTED')) {
      const qw = g.tensors.get(qName)!;
      const wDeq = dequantizeWeights({ data: qw.data as Int8Array, scales: wq.scale, zeroPoints: wq.zeroPoint, axis: wq.axis }, qw.shape);
      const shift = expectedOutputShift(op.type as WeightLayout, floatData(w), wDeq, w.shape, mean);
      bias = bias.map((v, c) => v - shift[c]!);
    }
    const qb = quantizeBias(bias, inScale, wq.scale);
    if (qb.clamped.length) warnings.push(`Op "${op.name}": bias channels ${qb.clamped.slice(0, 5).join(', ')} overflow int32 and were clamped`);
    const biasName = (readers.get(bName)?.length ?? 0) > 1 ? freshTensorName(g, `${bName}_${op.name}_int32`) : bName;
    g.tensors.set(biasName, {
      name: biasName, shape: [...b.shape], dtype: 'int32', data: qb.data,
      quant: { scale: qb.scales, zeroPoint: qb.zeroPoints, ...(qb.scales.length > 1 ? { axis: 0 } : {}) },
    });
    op.inputs[rule.bias] = biasName;
  }

  // Graph outputs in the requested I/O type; the signature keeps the original names.
  g.ops = ops;
  g.outputs = g.outputs.map((name) => {
    const d = domain.get(name) ?? 'float';
    const want: Domain = outputType === 'float32' ? 'float' : outputType;
    if (d === want) return name;
    const t = g.tensors.get(name)!;
    const inner = freshTensorName(g, `${name}_${d === 'float' ? 'float' : 'int8'}`);
    g.tensors.set(inner, { ...t, name: inner, shape: [...t.shape], quant: t.quant ? structuredClone(t.quant) : undefined });
    for (const op of g.ops) {
      op.outputs = op.outputs.map((o) => (o === name ? inner : o));
      op.inputs = op.inputs.map((o) => (o === name ? inner : o));
    }
    if (want === 'float') {
      g.tensors.set(name, { name, shape: [...t.shape], dtype: 'float32' });
      emit('DEQUANTIZE', inner, name, `${name}/dequantize_output`);
    } else {
      const p: QP = d === 'float' ? paramsOf(name, 'graph output') : qp(inner);
      g.tensors.set(name, { name, shape: [...t.shape], dtype: want });
      setQuant(g.tensors.get(name)!, want, want === 'uint8' ? { scale: p.scale, zeroPoint: p.zeroPoint + 128 } : p);
      emit('QUANTIZE', inner, name, `${name}/quantize_output`);
    }
    domain.set(name, want);
    return name;
  });
  g.ops = ops;
  // Drop the float constants that were replaced by quantized copies and are now unread.
  const used = new Set<string>([...g.inputs, ...g.outputs]);
  for (const op of g.ops) for (const t of [...op.inputs, ...op.outputs]) if (t) used.add(t);
  for (const name of [...g.tensors.keys()]) if (!used.has(name)) g.tensors.delete(name);
  validateGraph(g);
  g.metadata.optimization = 'PTQ_FULL_INTEGER';
  return { graph: g, decisions, warnings };
}
