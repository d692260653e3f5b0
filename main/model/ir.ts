/**
 * The graph IR: the one currency of Edgewise.
 *
 * Every importer (Keras, TF.js, TFLite) produces a `Graph`; every pass, optimizer and exporter consumes one.
 * Conventions (chosen so the TFLite exporter is a direct mapping and quantization parameters mean the same
 * thing everywhere):
 *  - Op types are TFLite builtin operator names (`CONV_2D`, `FULLY_CONNECTED`, …) plus a few pseudo-ops that
 *    graph passes remove or lower before export (`BATCH_NORM`, `DROPOUT`, `IDENTITY`).
 *  - Activations are NHWC. Constant weights use TFLite layouts: CONV_2D `[O,H,W,I]`, DEPTHWISE_CONV_2D
 *    `[1,H,W,C·M]`, FULLY_CONNECTED `[out,in]`, TRANSPOSE_CONV `[O,H,W,I]`, biases `[out]`.
 *  - Op attributes use the TFLite option names in camelCase (`strideW`, `padding: 'SAME'|'VALID'`,
 *    `fusedActivationFunction: 'NONE'|'RELU'|…`), so the writer copies them without translation.
 *  - Batch dimensions are -1 when unknown; every other dimension is static.
 *  - Names are kept from the source model (layer names for ops, weight names for constants) so errors and
 *    reports can point at what the user knows.
 */

export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Typed array holding a constant tensor's data; float16 is stored as raw IEEE half bits in a Uint16Array. */
export type TensorData =
  | Float32Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** Affine quantization: real = scale × (q − zeroPoint). Per-tensor when the arrays have length 1. */
export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** Quantized dimension for per-channel parameters (0 for conv/FC weights, 3 for depthwise). */
  axis?: number;
  /** Observed float range, kept for reporting and re-quantization. */
  min?: number[];
  max?: number[];
}

export interface Tensor {
  /** Unique within the graph; the source model's name where it had one. */
  name: string;
  shape: number[];
  dtype: DType;
  /** Present for constants (weights, biases, shape operands). */
  data?: TensorData;
  quant?: Quantization;
  /** Stateful tensors (e.g. LSTM state) read and written by ops. */
  isVariable?: boolean;
}

export type ActivationFn = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';
export type Padding = 'SAME' | 'VALID';

/** Attribute values: what TFLite options can hold, plus nested records for unusual ops. */
export type AttrValue = number | string | boolean | number[] | string[] | Uint8Array | null;

export interface Op {
  /** Unique within the graph: the source layer or node name (suffixed when one layer lowers to many ops). */
  name: string;
  /** TFLite builtin name, `CUSTOM`, or a pseudo-op (`BATCH_NORM`, `DROPOUT`, `IDENTITY`). */
  type: string;
  /** Tensor names; '' marks an absent optional input (written as -1). */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** For CUSTOM ops: the custom code and the raw option bytes, kept unchanged. */
  customCode?: string;
  customOptions?: Uint8Array;
  /** Where this op came from, for error messages and per-layer reports. */
  source?: { layer: string; className: string };
}

export interface Graph {
  name: string;
  /** Input and output tensor names, in signature order. */
  inputs: string[];
  outputs: string[];
  tensors: Map<string, Tensor>;
  /** In topological (execution) order. */
  ops: Op[];
  /** Free-form facts from the source (format, producer, Keras version, …). */
  metadata: Record<string, string>;
}

/** Pseudo-ops that exist only inside the IR; passes lower or remove them before export. */
export const PSEUDO_OPS = new Set(['BATCH_NORM', 'DROPOUT', 'IDENTITY']);

export function tensorOf(graph: Graph, name: string): Tensor {
  const t = graph.tensors.get(name);
  if (!t) throw new Error(`Graph "${graph.name}" has no tensor named "${name}"`);
  return t;
}

export function isConstant(graph: Graph, name: string): boolean {
  return graph.tensors.get(name)?.data !== undefined;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * Math.max(d, 1), 1);
}

/** Number of trainable parameters: elements of every float or quantized constant consumed as a weight. */
export function parameterCount(graph: Graph): number {
  let n = 0;
  for (const t of graph.tensors.values()) {
    if (t.data && t.dtype !== 'int32' && t.dtype !== 'int64') n += elementCount(t.shape);
    else if (t.data && t.dtype === 'int32' && t.quant) n += elementCount(t.shape); // quantized biases
  }
  return n;
}

/**
 * Checks the invariants every producer must keep: tensors referenced exist, each non-constant tensor has one
 * producer (an op or a graph input), ops appear after the producers of their inputs, names are unique.
 * Throws an Error naming the first offending op or tensor.
 */
export function validateGraph(graph: Graph): void {
  const produced = new Set<string>(graph.inputs);
  const opNames = new Set<string>();
  for (const name of graph.inputs) tensorOf(graph, name);
  for (const op of graph.ops) {
    if (opNames.has(op.name)) throw new Error(`Duplicate op name "${op.name}" in graph "${graph.name}"`);
    opNames.add(op.name);
    for (const input of op.inputs) {
      if (input === '') continue;
      const t = graph.tensors.get(input);
      if (!t) throw new Error(`Op "${op.name}" (${op.type}) reads unknown tensor "${input}"`);
      if (t.data === undefined && !t.isVariable && !produced.has(input)) {
        throw new Error(`Op "${op.name}" (${op.type}) reads "${input}" before it is produced`);
      }
    }
    for (const output of op.outputs) {
      tensorOf(graph, output);
      if (produced.has(output)) throw new Error(`Tensor "${output}" is produced twice (second time by "${op.name}")`);
      produced.add(output);
    }
  }
  for (const name of graph.outputs) {
    if (!produced.has(name) && !isConstant(graph, name)) {
      throw new Error(`Graph output "${name}" is never produced`);
    }
  }
}

/** A deep copy whose constant data can be changed without touching the original (optimizers work on copies). */
export function cloneGraph(graph: Graph): Graph {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of graph.tensors) {
    tensors.set(k, {
      ...t,
      shape: [...t.shape],
      data: t.data ? (t.data.slice() as TensorData) : undefined,
      quant: t.quant ? structuredClone(t.quant) : undefined,
    });
  }
  return {
    name: graph.name,
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    tensors,
    ops: graph.ops.map((op) => ({
      ...op,
      inputs: [...op.inputs],
      outputs: [...op.outputs],
      attrs: structuredClone(op.attrs),
      customOptions: op.customOptions?.slice(),
      source: op.source ? { ...op.source } : undefined,
    })),
    metadata: { ...graph.metadata },
  };
}
