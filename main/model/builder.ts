/**
 * A small helper for producing IR graphs: unique tensor/op names, constants, and shape bookkeeping.
 * Importers and passes use it so naming rules live in one place.
 */
import type { AttrValue, DType, Graph, Op, Tensor, TensorData } from './ir.ts';

/** Refuse single tensors above this size: a corrupt or hostile shape must not make us allocate gigabytes. */
export const MAX_TENSOR_BYTES = 2 ** 31;

const BYTES: Record<DType, number> = { float32: 4, float16: 2, int32: 4, int64: 8, int16: 2, int8: 1, uint8: 1, bool: 1 };

/** Throws a clear Error when a tensor of this shape/dtype would exceed MAX_TENSOR_BYTES (or has a bad dimension). */
export function checkTensorSize(what: string, shape: readonly number[], dtype: DType = 'float32'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < -1) throw new Error(`${what}: invalid dimension ${d} in shape [${shape.join(',')}]`);
    n *= Math.max(d, 1);
  }
  if (n * BYTES[dtype] > MAX_TENSOR_BYTES) {
    throw new Error(`${what}: shape [${shape.join(',')}] (${dtype}) would need ${(n * BYTES[dtype] / 2 ** 30).toFixed(1)} GiB; ` +
      `refusing tensors above ${MAX_TENSOR_BYTES / 2 ** 30} GiB (the file is corrupt or not a model Edgewise can handle)`);
  }
  return n;
}

export class GraphBuilder {
  readonly graph: Graph;
  private opNames = new Set<string>();

  constructor(name: string, metadata: Record<string, string> = {}) {
    this.graph = { name, inputs: [], outputs: [], tensors: new Map(), ops: [], metadata };
  }

  /** A name not used by any tensor yet: `base`, else `base_1`, `base_2`, … */
  uniqueTensorName(base: string): string {
    if (!this.graph.tensors.has(base)) return base;
    for (let i = 1; ; i++) if (!this.graph.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  uniqueOpName(base: string): string {
    if (!this.opNames.has(base)) return base;
    for (let i = 1; ; i++) if (!this.opNames.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  tensor(name: string, shape: number[], dtype: DType = 'float32', data?: TensorData): string {
    const unique = this.uniqueTensorName(name);
    const t: Tensor = { name: unique, shape: [...shape], dtype };
    if (data) {
      const n = checkTensorSize(unique, shape, dtype);
      if (data.length !== n) throw new Error(`Constant "${unique}": ${data.length} values for shape [${shape.join(',')}]`);
      t.data = data;
    }
    this.graph.tensors.set(unique, t);
    return unique;
  }

  constFloat(name: string, shape: number[], data: Float32Array): string {
    return this.tensor(name, shape, 'float32', data);
  }

  constInt32(name: string, values: number[], shape: number[] = [values.length]): string {
    return this.tensor(name, shape, 'int32', Int32Array.from(values));
  }

  input(name: string, shape: number[], dtype: DType = 'float32'): string {
    const t = this.tensor(name, shape, dtype);
    this.graph.inputs.push(t);
    return t;
  }

  /** Appends an op producing one new float tensor named after the op; returns the output tensor name. */
  op(name: string, type: string, inputs: string[], outShape: number[], attrs: Record<string, AttrValue> = {},
    source?: { layer: string; className: string }, outDtype: DType = 'float32'): string {
    const opName = this.uniqueOpName(name);
    this.opNames.add(opName);
    const out = this.tensor(opName, outShape, outDtype);
    const op: Op = { name: opName, type, inputs, outputs: [out], attrs };
    if (source) op.source = source;
    this.graph.ops.push(op);
    return out;
  }

  shapeOf(name: string): number[] {
    const t = this.graph.tensors.get(name);
    if (!t) throw new Error(`Graph "${this.graph.name}" has no tensor named "${name}"`);
    return t.shape;
  }
}
