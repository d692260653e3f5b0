/**
 * Graph passes that turn an imported graph into what the TFLite writer expects. Each takes a Graph and returns
 * a new one (the input is never mutated; each has an in-place twin the pipeline uses). `optimizeForExport` applies:
 *   foldConstants → removeIdentities → foldBatchNorm → foldBiasAdd → lowerBatchNorm → fuseActivations → pruneUnusedTensors.
 */
import type { ActivationFn, Graph, Op } from './ir.ts';
import { cloneGraph, validateGraph } from './ir.ts';
import { Executor } from './executor.ts';

/** Ops whose TFLite kernels honour fusedActivationFunction (CONCATENATION and TRANSPOSE_CONV kernels reject or ignore it). */
const FUSABLE_PRODUCERS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL', 'DIV',
  'AVERAGE_POOL_2D', 'MAX_POOL_2D']);
/**
 * Activations TFLite kernels apply when fused. TANH is deliberately absent: conv/FC/add kernels compute their
 * clamp range with CalculateActivationRange, which treats TANH as "no activation", silently dropping it.
 */
const FUSABLE_ACTIVATIONS: Record<string, ActivationFn> = { RELU: 'RELU', RELU6: 'RELU6', RELU_N1_TO_1: 'RELU_N1_TO_1' };
const BN_FOLD_TARGETS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV']);

function consumers(graph: Graph): Map<string, Op[]> {
  const m = new Map<string, Op[]>();
  for (const op of graph.ops) for (const t of op.inputs) if (t) m.set(t, [...(m.get(t) ?? []), op]);
  return m;
}

function producers(graph: Graph): Map<string, Op> {
  const m = new Map<string, Op>();
  for (const op of graph.ops) for (const t of op.outputs) m.set(t, op);
  return m;
}

/** Replaces every read of `from` with `to` (ops and graph outputs). */
function rewire(graph: Graph, from: string, to: string): void {
  for (const op of graph.ops) op.inputs = op.inputs.map((t) => (t === from ? to : t));
  graph.outputs = graph.outputs.map((t) => (t === from ? to : t));
}

/**
 * `x → op → y`, where op is being removed and y must survive as a name (it may be a graph output): the producer of
 * x now writes y directly, when x has no other reader; otherwise readers of y read x.
 */
function bypass(graph: Graph, op: Op, x: string, y: string): void {
  const prod = producers(graph).get(x);
  const readers = consumers(graph).get(x) ?? [];
  graph.ops = graph.ops.filter((o) => o !== op);
  if (prod && readers.length === 1 && !graph.outputs.includes(x)) {
    prod.outputs = prod.outputs.map((t) => (t === x ? y : t));
    graph.tensors.get(y)!.shape = [...graph.tensors.get(x)!.shape];
    graph.tensors.delete(x);
  } else {
    rewire(graph, y, x);
    graph.tensors.delete(y);
  }
}

/** Evaluates ops whose inputs are all constants (e.g. RESHAPE of a weight, shape arithmetic) into constants. */
export function foldConstants(graph: Graph): Graph {
  return foldConstantsInPlace(cloneGraph(graph));
}

function foldConstantsInPlace(g: Graph): Graph {
  for (const op of [...g.ops]) {
    // SHAPE of a tensor whose shape is fully static (no unknown batch) is a constant.
    if (op.type === 'SHAPE') {
      const inShape = g.tensors.get(op.inputs[0])?.shape;
      const out = g.tensors.get(op.outputs[0]);
      if (inShape && out && out.dtype === 'int32' && inShape.every((d) => d >= 0)) {
        out.data = Int32Array.from(inShape);
        out.shape = [inShape.length];
        g.ops = g.ops.filter((o) => o !== op);
      }
      continue;
    }
    if (op.inputs.length === 0 || !op.inputs.every((t) => t === '' || g.tensors.get(t)?.data)) continue;
    if (op.type === 'QUANTIZE' || op.type === 'DEQUANTIZE') continue; // kept: they define quantized storage
    const outs = op.outputs.map((o) => g.tensors.get(o)!);
    if (!outs.every((t) => t.dtype === 'float32' || t.dtype === 'int32')) continue;
    const sub: Graph = { name: `${g.name}/${op.name}`, inputs: [], outputs: op.outputs, tensors: g.tensors, ops: [op], metadata: {} };
    const ex = new Executor(sub);
    const values = ex.forward({}, op.outputs, true);
    outs.forEach((t, i) => {
      const data = values[i].dataSync();
      t.shape = [...values[i].shape];
      t.data = t.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    });
    values.forEach((v) => v.dispose());
    ex.dispose();
    g.ops = g.ops.filter((o) => o !== op);
  }
  return pruneUnusedTensors(g);
}

/** Drops DROPOUT and IDENTITY ops (inference no-ops). */
export function removeIdentities(graph: Graph): Graph {
  return removeIdentitiesInPlace(cloneGraph(graph));
}

function removeIdentitiesInPlace(g: Graph): Graph {
  for (const op of [...g.ops]) {
    if (op.type !== 'DROPOUT' && op.type !== 'IDENTITY') continue;
    const [x] = op.inputs;
    const [y] = op.outputs;
    if (g.inputs.includes(x) && g.outputs.includes(y)) continue; // a pure pass-through model: keep one op
    bypass(g, op, x, y);
  }
  return g;
}

function bnScaleShift(g: Graph, bn: Op): { scale: Float32Array; shift: Float32Array } | undefined {
  const [, gamma, beta, mean, variance] = bn.inputs.map((n) => g.tensors.get(n)?.data);
  if (!(gamma instanceof Float32Array && beta instanceof Float32Array && mean instanceof Float32Array && variance instanceof Float32Array)) {
    return undefined;
  }
  const eps = Number(bn.attrs.epsilon ?? 1e-3);
  const scale = new Float32Array(gamma.length);
  const shift = new Float32Array(gamma.length);
  for (let i = 0; i < gamma.length; i++) {
    scale[i] = gamma[i] / Math.sqrt(variance[i] + eps);
    shift[i] = beta[i] - mean[i] * scale[i];
  }
  return { scale, shift };
}

/**
 * Folds BATCH_NORM into the preceding CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV when that
 * op's output feeds only the BN and has no fused activation: W' = W·s (per output channel), b' = b·s + (β − μ·s).
 */
export function foldBatchNorm(graph: Graph): Graph {
  return foldBatchNormInPlace(cloneGraph(graph));
}

function foldBatchNormInPlace(g: Graph): Graph {
  for (const bn of [...g.ops]) {
    if (bn.type !== 'BATCH_NORM') continue;
    const x = bn.inputs[0];
    const prod = producers(g).get(x);
    if (!prod || !BN_FOLD_TARGETS.has(prod.type) || (prod.attrs.fusedActivationFunction ?? 'NONE') !== 'NONE') continue;
    if ((consumers(g).get(x) ?? []).length !== 1 || g.outputs.includes(x)) continue;
    const ss = bnScaleShift(g, bn);
    const wName = prod.inputs[1];
    const w = g.tensors.get(wName);
    if (!ss || !w || !(w.data instanceof Float32Array) || w.quant) continue;
    const ch = ss.scale.length;
    const wData = w.data.slice();
    // Output channel: dim 0 for CONV_2D / FC / TRANSPOSE_CONV ([O,…]), last dim for DEPTHWISE ([1,H,W,C·M]).
    if (prod.type === 'DEPTHWISE_CONV_2D') {
      if (w.shape[3] !== ch) continue;
      for (let i = 0; i < wData.length; i++) wData[i] *= ss.scale[i % ch];
    } else {
      if (w.shape[0] !== ch) continue;
      const inner = wData.length / ch;
      for (let i = 0; i < wData.length; i++) wData[i] *= ss.scale[Math.floor(i / inner)];
    }
    const biasIdx = prod.type === 'TRANSPOSE_CONV' ? 3 : 2;
    const oldBias = prod.inputs[biasIdx] ? g.tensors.get(prod.inputs[biasIdx])?.data : undefined;
    if (oldBias !== undefined && !(oldBias instanceof Float32Array)) continue;
    const bias = new Float32Array(ch);
    for (let i = 0; i < ch; i++) bias[i] = (oldBias ? oldBias[i] * ss.scale[i] : 0) + ss.shift[i];
    // New tensors (weights may be shared with other ops; the folded copy belongs to this op only).
    const newW = uniqueName(g, `${wName}_bnfold`);
    g.tensors.set(newW, { name: newW, shape: [...w.shape], dtype: 'float32', data: wData });
    const newB = uniqueName(g, `${prod.name}/bias_bnfold`);
    g.tensors.set(newB, { name: newB, shape: [ch], dtype: 'float32', data: bias });
    prod.inputs[1] = newW;
    while (prod.inputs.length <= biasIdx) prod.inputs.push('');
    prod.inputs[biasIdx] = newB;
    bypass(g, bn, x, bn.outputs[0]);
  }
  return pruneUnusedTensors(g);
}

/**
 * Folds `ADD(conv_like(x), c)` with a constant per-channel vector `c` into the producer's bias (TF graph models
 * emit Conv2D + BiasAdd as two nodes). Same conditions as BN folding: no fused activation, a single reader.
 */
export function foldBiasAdd(graph: Graph): Graph {
  return foldBiasAddInPlace(cloneGraph(graph));
}

function foldBiasAddInPlace(g: Graph): Graph {
  for (const add of [...g.ops]) {
    if (add.type !== 'ADD' || (add.attrs.fusedActivationFunction ?? 'NONE') !== 'NONE') continue;
    const [a, b] = add.inputs;
    const [x, c] = g.tensors.get(a)?.data ? [b, a] : [a, b];
    const cT = g.tensors.get(c);
    const prod = producers(g).get(x);
    if (!prod || !BN_FOLD_TARGETS.has(prod.type) || (prod.attrs.fusedActivationFunction ?? 'NONE') !== 'NONE') continue;
    if (!(cT?.data instanceof Float32Array) || cT.quant) continue;
    const ch = g.tensors.get(x)!.shape.at(-1)!;
    if (cT.data.length !== ch || (cT.shape.length > 1 && cT.shape.slice(0, -1).some((d) => d !== 1))) continue;
    if ((consumers(g).get(x) ?? []).length !== 1 || g.outputs.includes(x)) continue;
    const biasIdx = prod.type === 'TRANSPOSE_CONV' ? 3 : 2;
    const old = prod.inputs[biasIdx] ? g.tensors.get(prod.inputs[biasIdx])?.data : undefined;
    if (old !== undefined && !(old instanceof Float32Array)) continue;
    const bias = new Float32Array(ch);
    for (let i = 0; i < ch; i++) bias[i] = (old ? old[i] : 0) + cT.data[i];
    const name = uniqueName(g, `${prod.name}/bias_folded`);
    g.tensors.set(name, { name, shape: [ch], dtype: 'float32', data: bias });
    while (prod.inputs.length <= biasIdx) prod.inputs.push('');
    prod.inputs[biasIdx] = name;
    bypass(g, add, x, add.outputs[0]);
  }
  return pruneUnusedTensors(g);
}

/** Any BATCH_NORM left (e.g. after an ADD or on an input) becomes MUL + ADD with per-channel constants. */
export function lowerBatchNorm(graph: Graph): Graph {
  return lowerBatchNormInPlace(cloneGraph(graph));
}

function lowerBatchNormInPlace(g: Graph): Graph {
  const ops: Op[] = [];
  for (const bn of g.ops) {
    if (bn.type !== 'BATCH_NORM') {
      ops.push(bn);
      continue;
    }
    const ss = bnScaleShift(g, bn);
    if (!ss) throw new Error(`BATCH_NORM "${bn.name}" has non-constant or non-float parameters; cannot lower it`);
    const x = bn.inputs[0];
    const y = bn.outputs[0];
    const shape = g.tensors.get(y)!.shape;
    const sName = uniqueName(g, `${bn.name}/scale`);
    g.tensors.set(sName, { name: sName, shape: [ss.scale.length], dtype: 'float32', data: ss.scale });
    const hName = uniqueName(g, `${bn.name}/shift`);
    g.tensors.set(hName, { name: hName, shape: [ss.shift.length], dtype: 'float32', data: ss.shift });
    const mid = uniqueName(g, `${bn.name}/mul`);
    g.tensors.set(mid, { name: mid, shape: [...shape], dtype: 'float32' });
    ops.push({ name: `${bn.name}/mul`, type: 'MUL', inputs: [x, sName], outputs: [mid], attrs: { fusedActivationFunction: 'NONE' }, source: bn.source });
    ops.push({ name: bn.name, type: 'ADD', inputs: [mid, hName], outputs: [y], attrs: { fusedActivationFunction: 'NONE' }, source: bn.source });
  }
  g.ops = ops;
  return pruneUnusedTensors(g);
}

/** Fuses RELU / RELU6 / RELU_N1_TO_1 into the producer's fusedActivationFunction when its output has one reader. */
export function fuseActivations(graph: Graph): Graph {
  return fuseActivationsInPlace(cloneGraph(graph));
}

function fuseActivationsInPlace(g: Graph): Graph {
  for (const act of [...g.ops]) {
    const fn = FUSABLE_ACTIVATIONS[act.type];
    if (!fn) continue;
    const x = act.inputs[0];
    const prod = producers(g).get(x);
    if (!prod || !FUSABLE_PRODUCERS.has(prod.type) || (prod.attrs.fusedActivationFunction ?? 'NONE') !== 'NONE') continue;
    if ((consumers(g).get(x) ?? []).length !== 1 || g.outputs.includes(x)) continue;
    if (g.tensors.get(x)?.quant) continue; // quantized graphs carry their own clamp ranges
    prod.attrs.fusedActivationFunction = fn;
    bypass(g, act, x, act.outputs[0]);
  }
  return g;
}

/** Removes tensors no op or graph endpoint mentions (e.g. weights of folded BNs). */
export function pruneUnusedTensors(graph: Graph): Graph {
  const used = new Set<string>([...graph.inputs, ...graph.outputs]);
  for (const op of graph.ops) for (const t of [...op.inputs, ...op.outputs]) if (t) used.add(t);
  for (const name of [...graph.tensors.keys()]) if (!used.has(name)) graph.tensors.delete(name);
  return graph;
}

function uniqueName(g: Graph, base: string): string {
  if (!g.tensors.has(base)) return base;
  for (let i = 1; ; i++) if (!g.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** The standard pre-export pipeline; the result validates and computes the same function as the input. */
export function optimizeForExport(graph: Graph): Graph {
  // One clone, then the in-place passes: cloning MobileNetV2's 10 MB of weights per pass dominated the cost.
  let g = cloneGraph(graph);
  g = foldConstantsInPlace(g);
  g = removeIdentitiesInPlace(g);
  g = foldBatchNormInPlace(g);
  g = foldBiasAddInPlace(g);
  g = lowerBatchNormInPlace(g);
  g = fuseActivationsInPlace(g);
  g = pruneUnusedTensors(g);
  validateGraph(g);
  return g;
}
