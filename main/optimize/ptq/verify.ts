/**
 * Checks a written full-integer .tflite against the int8 spec: reads the FILE back (not our IR), converts it
 * with tfliteToGraph and runs quantize/spec.ts `checkInt8Spec` on every op except the float edges
 * (QUANTIZE float→int8 at model inputs, DEQUANTIZE int8→float at model outputs, uint8↔int8 requantizes), which
 * the spec table cannot describe. Ops kept in float on purpose (mixed models) are skipped when listed.
 */
import { readTflite } from '../../tflite/reader.ts';
import { tfliteToGraph } from '../../tflite/to-ir.ts';
import { checkInt8Spec, type SpecViolation } from '../quantize/spec.ts';
import type { Graph } from '../../model/ir.ts';

function isEdge(graph: Graph, op: Graph['ops'][number]): boolean {
  const dt = (n: string) => graph.tensors.get(n)?.dtype;
  if (op.type === 'QUANTIZE') return dt(op.inputs[0]!) !== 'int8' || dt(op.outputs[0]!) !== 'int8';
  if (op.type === 'DEQUANTIZE') return true;
  return false;
}

export function int8FileViolations(bytes: Uint8Array, fileName = 'model.tflite', floatOps: ReadonlySet<string> = new Set()): SpecViolation[] {
  const graph = tfliteToGraph(readTflite(bytes, fileName), fileName);
  // Ops next to float ops legitimately see float tensors; the spec applies to the integer part.
  const keep = graph.ops.filter((op) => !isEdge(graph, op) && !floatOps.has(op.name));
  return checkInt8Spec({ ...graph, ops: keep });
}
