/**
 * float16 PTQ (reference quantization.md §1.3, QuantizeWeightsFloat16): every float32 constant an op reads
 * becomes a FLOAT16 tensor followed by one DEQUANTIZE (v3) whose float32 output all readers use.
 * Compute stays float32; the file roughly halves.
 */
import { cloneGraph, type Graph, type Op } from '../../model/ir.ts';
import { toFloat16 } from '../../model/float16.ts';
import { freshOpName, freshTensorName } from './rewrite.ts';

export function quantizeFloat16(source: Graph): Graph {
  const g = cloneGraph(source);
  const opNames = new Set(g.ops.map((o) => o.name));
  const converted = new Map<string, string>(); // constant → dequantized tensor name
  const ops: Op[] = [];
  for (const op of g.ops) {
    op.inputs = op.inputs.map((name) => {
      const t = name ? g.tensors.get(name) : undefined;
      if (!t?.data || t.dtype !== 'float32') return name;
      let deq = converted.get(name);
      if (!deq) {
        deq = freshTensorName(g, `${name}_dequantize`);
        g.tensors.set(deq, { name: deq, shape: [...t.shape], dtype: 'float32' });
        t.dtype = 'float16';
        t.data = toFloat16(t.data as Float32Array);
        ops.push({ name: freshOpName(opNames, `${name}/dequantize`), type: 'DEQUANTIZE', inputs: [name], outputs: [deq], attrs: {} });
        converted.set(name, deq);
      }
      return deq;
    });
    ops.push(op);
  }
  g.ops = ops;
  g.metadata.optimization = 'PTQ_FLOAT16';
  return g;
}
