/**
 * Dynamic-range (hybrid) PTQ (reference quantization.md §1.4, QuantizeWeightsInt8 with the updated hybrid
 * scheme): constant weights of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (… per spec.ts
 * `dynamicRangeWeight`) with ≥ 1024 elements become int8 symmetric (per-channel for conv dim 0 and depthwise
 * dim 3, per-tensor otherwise). Activations and biases stay float; the hybrid kernels quantize inputs on the
 * fly (FULLY_CONNECTED with asymmetric_quantize_inputs → v9). Any other reader of a quantized weight gets a
 * DEQUANTIZE.
 */
import { cloneGraph, type Graph, type Op } from '../../model/ir.ts';
import { DYNAMIC_RANGE_MIN_ELEMENTS, quantizeDynamicRange } from '../quantize/math.ts';
import { dynamicRangeWeight } from '../quantize/spec.ts';
import { floatData, freshOpName, freshTensorName } from './rewrite.ts';

export function quantizeDynamicRangeGraph(source: Graph, minElements = DYNAMIC_RANGE_MIN_ELEMENTS): Graph {
  const g = cloneGraph(source);
  const opNames = new Set(g.ops.map((o) => o.name));
  const quantized = new Set<string>();
  for (const op of g.ops) {
    const rule = dynamicRangeWeight(op.type);
    if (!rule) continue;
    const name = op.inputs[rule.input];
    const t = name ? g.tensors.get(name) : undefined;
    if (!t?.data || t.dtype !== 'float32') continue;
    if (quantized.has(name)) continue;
    const q = quantizeDynamicRange(floatData(t), t.shape, rule.axis, minElements);
    if (!q) continue;
    t.dtype = 'int8';
    t.data = q.data;
    t.quant = { scale: q.scales, zeroPoint: q.zeroPoints, ...(q.axis !== undefined ? { axis: q.axis } : {}) };
    quantized.add(name);
  }
  // Readers that are not hybrid kernels for that input see float through one DEQUANTIZE per weight.
  const ops: Op[] = [];
  const deqOf = new Map<string, string>();
  for (const op of g.ops) {
    const rule = dynamicRangeWeight(op.type);
    op.inputs = op.inputs.map((name, i) => {
      if (!quantized.has(name) || (rule && rule.input === i)) return name;
      let deq = deqOf.get(name);
      if (!deq) {
        deq = freshTensorName(g, `${name}_dequantize`);
        g.tensors.set(deq, { name: deq, shape: [...g.tensors.get(name)!.shape], dtype: 'float32' });
        ops.push({ name: freshOpName(opNames, `${name}/dequantize`), type: 'DEQUANTIZE', inputs: [name], outputs: [deq], attrs: {} });
        deqOf.set(name, deq);
      }
      return deq;
    });
    if (op.type === 'FULLY_CONNECTED' && quantized.has(op.inputs[1])) op.attrs.asymmetricQuantizeInputs = true;
    ops.push(op);
  }
  g.ops = ops;
  g.outputs = g.outputs.map((name) => {
    if (!quantized.has(name)) return name;
    throw new Error(`Graph output "${name}" is a constant weight; dynamic-range quantization expects computed outputs`);
  });
  g.metadata.optimization = 'PTQ_DYNAMIC_RANGE';
  return g;
}
