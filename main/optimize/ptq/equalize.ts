/**
 * Cross-layer equalization on a float graph (uses G's `equalizeDepthwiseSeparable`): every DEPTHWISE_CONV_2D
 * whose output feeds exactly one CONV_2D, with NONE or RELU fused in between (positively homogeneous), gets its
 * channel ranges balanced with that conv. The float function is unchanged (exactly, up to rounding); per-tensor
 * weight quantization of depthwise-separable stacks improves a lot. RELU6 pairs are skipped (see equalization.ts).
 */
import { cloneGraph, type ActivationFn, type Graph } from '../../model/ir.ts';
import { equalizeDepthwiseSeparable } from '../quantize/equalization.ts';
import { consumersOf, floatData } from './rewrite.ts';

export interface EqualizationReport {
  pairs: { depthwise: string; conv: string }[];
  skipped: { depthwise: string; reason: string }[];
}

export function equalizeGraph(source: Graph): { graph: Graph; report: EqualizationReport } {
  const g = cloneGraph(source);
  const readers = consumersOf(g);
  const report: EqualizationReport = { pairs: [], skipped: [] };
  for (const dw of g.ops) {
    if (dw.type !== 'DEPTHWISE_CONV_2D') continue;
    const next = readers.get(dw.outputs[0]!) ?? [];
    if (next.length !== 1 || next[0]!.type !== 'CONV_2D' || next[0]!.inputs[0] !== dw.outputs[0] || g.outputs.includes(dw.outputs[0]!)) continue;
    const conv = next[0]!;
    const w1 = g.tensors.get(dw.inputs[1]!)!;
    const w2 = g.tensors.get(conv.inputs[1]!)!;
    const b1 = dw.inputs[2] ? g.tensors.get(dw.inputs[2]) : undefined;
    if ((readers.get(w1.name)?.length ?? 0) > 1 || (readers.get(w2.name)?.length ?? 0) > 1 || (b1 && (readers.get(b1.name)?.length ?? 0) > 1)) {
      report.skipped.push({ depthwise: dw.name, reason: 'weights are shared with other ops' });
      continue;
    }
    const r = equalizeDepthwiseSeparable({
      depthwise: floatData(w1), depthwiseShape: w1.shape, depthwiseBias: b1 ? floatData(b1) : undefined,
      conv: floatData(w2), convShape: w2.shape, activation: String(dw.attrs.fusedActivationFunction ?? 'NONE') as ActivationFn,
    });
    if (!r.equalized) {
      report.skipped.push({ depthwise: dw.name, reason: r.reason });
      continue;
    }
    w1.data = r.w1;
    w2.data = r.w2;
    if (b1 && r.b1) b1.data = r.b1;
    report.pairs.push({ depthwise: dw.name, conv: conv.name });
  }
  return { graph: g, report };
}
