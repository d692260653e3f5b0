/**
 * Model inspection: the facts `edgewise inspect` and the app's model page show. `.tflite` files are inspected
 * from the file itself (so Edge TPU–compiled models work: their weights live inside the custom op);
 * other formats from their IR graph.
 */
import { gzippedSize } from '../sizes.ts';
import { parameterCount, type Graph, type Quantization } from '../model/ir.ts';
import { readTflite } from './reader.ts';
import { tfliteToGraph } from './to-ir.ts';
import { irDtypeOf } from './dtypes.ts';
import { metadataString, type TfliteQuantization, type TfliteTensor } from './model.ts';

export type QuantSummary =
  | { kind: 'per-tensor'; scale: number; zeroPoint: number }
  | { kind: 'per-channel'; axis: number; channels: number; minScale: number; maxScale: number };

export interface TensorSummary {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: QuantSummary;
}

export interface ModelInspection {
  file: string;
  format: string;
  fileSize: number;
  gzippedSize: number;
  description?: string;
  minRuntimeVersion?: string;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  /** Elements of float or quantized constants (null when the weights are opaque, e.g. compiled for Edge TPU). */
  parameterCount: number | null;
  opCount: number;
  /** Op type (custom ops by their custom code) → count. */
  opHistogram: Record<string, number>;
  tensorCount: number;
  quantizedTensors: TensorSummary[];
  edgeTpuCustomOps: { name: string; optionsSize: number }[];
  metadataNames: string[];
}

function summarizeQuant(q: { scale: number[]; zeroPoint: number[]; axis: number } | undefined): QuantSummary | undefined {
  if (!q || q.scale.length === 0) return undefined;
  if (q.scale.length === 1) return { kind: 'per-tensor', scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 };
  return { kind: 'per-channel', axis: q.axis, channels: q.scale.length, minScale: Math.min(...q.scale), maxScale: Math.max(...q.scale) };
}
const fromTflite = (q?: TfliteQuantization) => q && { scale: q.scale, zeroPoint: q.zeroPoint, axis: q.quantizedDimension };
const fromIr = (q?: Quantization) => q && { scale: q.scale, zeroPoint: q.zeroPoint, axis: q.axis ?? 0 };

function sizes(bytes: Uint8Array): { fileSize: number; gzippedSize: number } {
  return { fileSize: bytes.length, gzippedSize: gzippedSize(bytes) };
}

/** Inspects `.tflite` bytes. Throws TfliteFormatError for malformed files. */
export function inspectTflite(bytes: Uint8Array, fileName: string): ModelInspection {
  const model = readTflite(bytes, fileName);
  const sg = model.subgraphs[0]!;
  const summary = (t: TfliteTensor): TensorSummary => {
    const quantization = summarizeQuant(fromTflite(t.quantization));
    return { name: t.name, shape: t.shapeSignature ?? t.shape, dtype: irDtypeOf(t.type) ?? t.type.toLowerCase(), ...(quantization ? { quantization } : {}) };
  };
  const opHistogram: Record<string, number> = {};
  const edgeTpuCustomOps: ModelInspection['edgeTpuCustomOps'] = [];
  for (const op of sg.operators) {
    const code = model.operatorCodes[op.opcodeIndex]!;
    const name = code.customCode ?? code.builtin;
    opHistogram[name] = (opHistogram[name] ?? 0) + 1;
    if (code.customCode?.startsWith('edgetpu')) edgeTpuCustomOps.push({ name: code.customCode, optionsSize: op.customOptions?.length ?? 0 });
  }
  let params: number | null = null;
  if (edgeTpuCustomOps.length === 0) {
    try {
      params = parameterCount(tfliteToGraph(model, fileName));
    } catch {
      params = null; // readable but not convertible (e.g. string tensors): the other facts still stand
    }
  }
  const description = model.description || undefined;
  const minRuntimeVersion = metadataString(model, 'min_runtime_version');
  return {
    file: fileName,
    format: edgeTpuCustomOps.length ? 'tflite (Edge TPU compiled)' : 'tflite',
    ...sizes(bytes),
    ...(description ? { description } : {}),
    ...(minRuntimeVersion ? { minRuntimeVersion } : {}),
    inputs: sg.inputs.map((i) => summary(sg.tensors[i]!)),
    outputs: sg.outputs.map((i) => summary(sg.tensors[i]!)),
    parameterCount: params,
    opCount: sg.operators.length,
    opHistogram,
    tensorCount: sg.tensors.length,
    quantizedTensors: sg.tensors.filter((t) => (t.quantization?.scale.length ?? 0) > 0).map(summary),
    edgeTpuCustomOps,
    metadataNames: model.metadata.map((m) => m.name),
  };
}

/** Inspects a model already converted to the IR (Keras, TF.js, …). */
export function inspectGraph(graph: Graph, format: string, bytes: Uint8Array, fileName: string): ModelInspection {
  const summary = (name: string): TensorSummary => {
    const t = graph.tensors.get(name)!;
    const quantization = summarizeQuant(fromIr(t.quant));
    return { name, shape: t.shape, dtype: t.dtype, ...(quantization ? { quantization } : {}) };
  };
  const opHistogram: Record<string, number> = {};
  for (const op of graph.ops) {
    const name = op.customCode ?? op.type;
    opHistogram[name] = (opHistogram[name] ?? 0) + 1;
  }
  return {
    file: fileName,
    format,
    ...sizes(bytes),
    inputs: graph.inputs.map(summary),
    outputs: graph.outputs.map(summary),
    parameterCount: parameterCount(graph),
    opCount: graph.ops.length,
    opHistogram,
    tensorCount: graph.tensors.size,
    quantizedTensors: [...graph.tensors.values()].filter((t) => t.quant && t.quant.scale.length > 0).map((t) => summary(t.name)),
    edgeTpuCustomOps: [],
    metadataNames: Object.keys(graph.metadata),
  };
}

function quantText(q?: QuantSummary): string {
  if (!q) return '';
  if (q.kind === 'per-tensor') return ` q(scale ${q.scale.toPrecision(4)}, zp ${q.zeroPoint})`;
  return ` q(per-channel axis ${q.axis}: ${q.channels} scales ${q.minScale.toPrecision(3)}…${q.maxScale.toPrecision(3)})`;
}

/** Human-readable report (the CLI's default output). */
export function formatInspection(r: ModelInspection): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const tensor = (t: TensorSummary) => `    ${t.name}  [${t.shape.join(', ')}] ${t.dtype}${quantText(t.quantization)}`;
  const lines = [
    `${r.file}`,
    `  format:       ${r.format}`,
    `  size:         ${r.fileSize} B (${kb(r.fileSize)}), gzipped ${r.gzippedSize} B (${kb(r.gzippedSize)})`,
  ];
  if (r.description) lines.push(`  description:  ${r.description}`);
  if (r.minRuntimeVersion) lines.push(`  min runtime:  ${r.minRuntimeVersion}`);
  lines.push(`  parameters:   ${r.parameterCount ?? 'n/a (inside the Edge TPU custom op)'}`);
  lines.push('  inputs:', ...r.inputs.map(tensor), '  outputs:', ...r.outputs.map(tensor));
  lines.push(`  ops (${r.opCount}):`);
  for (const [name, n] of Object.entries(r.opHistogram).sort((a, b) => b[1] - a[1])) lines.push(`    ${String(n).padStart(4)}  ${name}`);
  if (r.edgeTpuCustomOps.length) {
    lines.push('  Edge TPU custom ops:', ...r.edgeTpuCustomOps.map((o) => `    ${o.name}: ${o.optionsSize} B of options (DWN1 package)`));
  }
  lines.push(`  tensors:      ${r.tensorCount} (${r.quantizedTensors.length} quantized)`);
  const perChannel = r.quantizedTensors.filter((t) => t.quantization?.kind === 'per-channel');
  if (perChannel.length) lines.push(`  per-channel:  ${perChannel.length} tensors`, ...perChannel.slice(0, 20).map(tensor));
  if (r.metadataNames.length) lines.push(`  metadata:     ${r.metadataNames.join(', ')}`);
  return lines.join('\n');
}
