/**
 * Small graph-rewrite helpers shared by the PTQ rewrites (float16, dynamic range, int8): who reads a tensor,
 * fresh names, adding tensors and ops. Rewrites always work on a clone (`cloneGraph`) and return it.
 */
import type { Graph, Op, Tensor } from '../../model/ir.ts';

export function consumersOf(graph: Graph): Map<string, Op[]> {
  const m = new Map<string, Op[]>();
  for (const op of graph.ops) for (const t of op.inputs) if (t) m.set(t, [...(m.get(t) ?? []), op]);
  return m;
}

export function producersOf(graph: Graph): Map<string, Op> {
  const m = new Map<string, Op>();
  for (const op of graph.ops) for (const t of op.outputs) m.set(t, op);
  return m;
}

export function freshTensorName(graph: Graph, base: string): string {
  if (!graph.tensors.has(base)) return base;
  for (let i = 1; ; i++) if (!graph.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
}

export function freshOpName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export function addTensor(graph: Graph, t: Tensor): Tensor {
  graph.tensors.set(t.name, t);
  return t;
}

/** Float32 view of a constant (throws naming the tensor when it is not float32 data). */
export function floatData(t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array) || t.dtype !== 'float32') {
    throw new Error(`Tensor "${t.name}" is ${t.dtype}, expected float32 constant data`);
  }
  return t.data;
}
