/**
 * Compiled models whose graph is only partly on the Edge TPU: the compiler leaves ops it cannot map as ordinary
 * TFLite ops before/after the `edgetpu-custom-op` (and with `-a` emits several custom ops). We split subgraph 0,
 * in operator order (TFLite stores operators topologically), into segments:
 *
 * - TPU segments: one custom op each, run by the USB driver (`EdgeTpuDevice.invoke`);
 * - CPU segments: maximal runs of consecutive other ops, each written as a standalone `.tflite` (boundary tensors
 *   become its inputs/outputs; constants, quantization, op codes and versions kept) and run in the real TFLite
 *   runtime (`CpuSegmentRunner`).
 *
 * Tensors crossing a boundary travel between segments by name as raw TFLite bytes, so those names must be unique.
 */
import { TfliteInterpreter, type RuntimeTypedArray } from '../../native-bridges/tflite-runtime.ts';
import type { DType } from '../model/ir.ts';
import { typedArrayFromBytes } from '../tflite/dtypes.ts';
import { metadataString, type TfliteModel, type TfliteOperatorCode, type TfliteTensor } from '../tflite/model.ts';
import { minRuntimeVersion, runtimeVersionBuffer } from '../tflite/op-version.ts';
import { writeTflite } from '../tflite/writer.ts';
import { EDGETPU_CUSTOM_OP, EdgeTpuModelError, type EdgeTpuCustomOp, type EdgeTpuModel } from './package.ts';

export interface CpuSegment {
  kind: 'cpu';
  /** Operator indices in subgraph 0. */
  operators: number[];
  /** Op names (`DEQUANTIZE`, …) for messages and reports. */
  ops: string[];
  /** Boundary tensor names, in the standalone model's input/output order. */
  inputs: string[];
  outputs: string[];
  /** The standalone `.tflite` for the TFLite runtime. */
  tflite: Uint8Array;
}

export interface TpuSegment {
  kind: 'tpu';
  op: EdgeTpuCustomOp;
  /** Tensor names of the custom op's inputs/outputs, position i ↔ the executable's input/output layer i. */
  inputs: string[];
  outputs: string[];
}

export type Segment = CpuSegment | TpuSegment;

export interface Partition {
  /** Graph input/output tensor names (what `invoke` takes and returns, in order). */
  inputs: string[];
  outputs: string[];
  segments: Segment[];
}

const opName = (m: TfliteModel, code: number): string => {
  const c = m.operatorCodes[code];
  return c ? (c.builtin === 'CUSTOM' ? `CUSTOM(${c.customCode ?? ''})` : c.builtin) : `opcode ${code}`;
};

/** Splits a compiled model into CPU and TPU segments. Throws `EdgeTpuModelError` naming the file and op/tensor. */
export function partitionModel(model: EdgeTpuModel): Partition {
  const { tflite, fileName } = model;
  const bad = (problem: string) => new EdgeTpuModelError(fileName, problem);
  const extra = model.customOps.find((o) => o.subgraph !== 0);
  if (extra || tflite.subgraphs.length !== 1)
    throw bad(`has ${tflite.subgraphs.length} subgraphs${extra ? ` and an ${EDGETPU_CUSTOM_OP} in subgraph ${extra.subgraph}` : ''}; only single-subgraph models (no control flow) can be run`);
  const sg = tflite.subgraphs[0]!;
  const tpuAt = new Map(model.customOps.map((o) => [o.operatorIndex, o]));

  // Values are tensors computed at run time: graph inputs and op outputs. Everything else an op reads is a
  // constant or a variable, which stays inside its segment.
  const producer = new Map<number, number>();
  sg.operators.forEach((op, i) => op.outputs.forEach((t) => t >= 0 && producer.set(t, i)));
  const isValue = (t: number) => sg.inputs.includes(t) || producer.has(t);
  const lastUse = new Map<number, number>();
  sg.operators.forEach((op, i) => op.inputs.forEach((t) => t >= 0 && lastUse.set(t, i)));
  sg.operators.forEach((op, i) =>
    op.inputs.forEach((t) => {
      const p = producer.get(t);
      if (p !== undefined && p >= i)
        throw bad(`operator ${i} (${opName(tflite, op.opcodeIndex)}) reads tensor ${t} '${sg.tensors[t]?.name}' before operator ${p} produces it; the operators are not in topological order`);
    }),
  );

  // Group consecutive non-Edge-TPU operators.
  const groups: ({ tpu: EdgeTpuCustomOp } | { cpu: number[] })[] = [];
  sg.operators.forEach((_, i) => {
    const t = tpuAt.get(i);
    const last = groups.at(-1);
    if (t) groups.push({ tpu: t });
    else if (last && 'cpu' in last) last.cpu.push(i);
    else groups.push({ cpu: [i] });
  });

  const nameOf = (t: number) => sg.tensors[t]!.name;
  const crossing = new Set<number>([...sg.inputs, ...sg.outputs]);
  const segments: Segment[] = groups.map((g) => {
    if ('tpu' in g) {
      const ins = g.tpu.inputs.filter((t) => t >= 0);
      ins.filter(isValue).forEach((t) => crossing.add(t));
      g.tpu.outputs.forEach((t) => crossing.add(t));
      return { kind: 'tpu', op: g.tpu, inputs: ins.map(nameOf), outputs: g.tpu.outputs.map(nameOf) };
    }
    const ops = g.cpu;
    const produced = new Set(ops.flatMap((i) => sg.operators[i]!.outputs.filter((t) => t >= 0)));
    const read = [...new Set(ops.flatMap((i) => sg.operators[i]!.inputs.filter((t) => t >= 0)))];
    const inputs = read.filter((t) => isValue(t) && !produced.has(t)).sort((a, b) => a - b);
    // Outputs: what the graph returns, what a later segment reads, and dead ends (so the model stays valid).
    const outputs = [...produced].filter((t) => sg.outputs.includes(t) || (lastUse.get(t) ?? -1) > ops.at(-1)! || !lastUse.has(t)).sort((a, b) => a - b);
    for (const t of [...inputs, ...outputs]) crossing.add(t);
    return {
      kind: 'cpu', operators: ops, ops: ops.map((i) => opName(tflite, sg.operators[i]!.opcodeIndex)),
      inputs: inputs.map(nameOf), outputs: outputs.map(nameOf),
      tflite: writeTflite(extractSegment(tflite, ops, inputs, outputs, `${fileName}: CPU ops ${ops[0]}..${ops.at(-1)}`)),
    };
  });

  const seen = new Map<string, number>();
  for (const t of crossing) {
    const other = seen.get(nameOf(t));
    if (other !== undefined && other !== t)
      throw bad(`tensors ${other} and ${t} are both named '${nameOf(t)}'; tensors passed between the CPU and Edge TPU parts need unique names`);
    seen.set(nameOf(t), t);
  }
  return { inputs: sg.inputs.map(nameOf), outputs: sg.outputs.map(nameOf), segments };
}

/**
 * A standalone model of operators `ops` of subgraph 0: their tensors (renumbered), the op codes they use (same
 * versions), constant buffers copied, `min_runtime_version` from the op versions (or the source model's).
 */
export function extractSegment(src: TfliteModel, ops: number[], inputs: number[], outputs: number[], description: string): TfliteModel {
  const sg = src.subgraphs[0]!;
  const tensorMap = new Map<number, number>();
  const tensors: TfliteTensor[] = [];
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const bufferMap = new Map<number, number>();
  const mapTensor = (t: number): number => {
    if (t < 0) return t;
    let n = tensorMap.get(t);
    if (n !== undefined) return n;
    const orig = sg.tensors[t]!;
    const data = src.buffers[orig.buffer];
    let buffer = 0;
    if (orig.buffer > 0 && data?.length) {
      buffer = bufferMap.get(orig.buffer) ?? buffers.push(data.slice()) - 1;
      bufferMap.set(orig.buffer, buffer);
    }
    n = tensors.push({ ...orig, buffer }) - 1;
    tensorMap.set(t, n);
    return n;
  };
  const codes: TfliteOperatorCode[] = [];
  const codeMap = new Map<number, number>();
  const operators = ops.map((i) => {
    const op = sg.operators[i]!;
    let code = codeMap.get(op.opcodeIndex);
    if (code === undefined) {
      code = codes.push({ ...src.operatorCodes[op.opcodeIndex]! }) - 1;
      codeMap.set(op.opcodeIndex, code);
    }
    return {
      ...op,
      opcodeIndex: code,
      inputs: op.inputs.map(mapTensor),
      outputs: op.outputs.map(mapTensor),
      ...(op.intermediates ? { intermediates: op.intermediates.map(mapTensor) } : {}),
    };
  });
  const metadata = [];
  // Unknown ops do not raise the computed version; the compiled file's own value (if any) is a floor.
  const version = [minRuntimeVersion(codes), metadataString(src, 'min_runtime_version') ?? ''].filter(Boolean).sort(compareVersions).at(-1) ?? '1.5.0';
  const vbuf = runtimeVersionBuffer(version);
  if (vbuf) metadata.push({ name: 'min_runtime_version', buffer: buffers.push(vbuf) - 1 });
  return {
    version: 3,
    description,
    operatorCodes: codes,
    subgraphs: [{ name: 'main', tensors, inputs: inputs.map(mapTensor), outputs: outputs.map(mapTensor), operators }],
    buffers,
    metadata,
    signatureDefs: [],
  };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const RUNTIME_DTYPES = new Set<string>(['float32', 'float16', 'int32', 'int64', 'int16', 'int8', 'uint8', 'bool']);

/** Raw TFLite tensor bytes → the typed array the runtime's `setInput` wants for `dtype` (runtime names). */
export function runtimeArray(dtype: string, bytes: Uint8Array): RuntimeTypedArray {
  if (!RUNTIME_DTYPES.has(dtype) || dtype === 'int64' || dtype === 'float16') throw new Error(`tensors of type ${dtype} cannot be passed to the TFLite runtime`);
  return typedArrayFromBytes(dtype as DType, bytes) as RuntimeTypedArray;
}

/** A runtime output → raw TFLite tensor bytes. */
export function runtimeBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** One CPU segment loaded in the TFLite WASM runtime; reads its inputs from and writes its outputs to `values`. */
export class CpuSegmentRunner {
  private constructor(readonly segment: CpuSegment, private readonly interp: TfliteInterpreter, private readonly order: { inputs: number[]; outputs: number[] }) {}

  static async create(segment: CpuSegment, fileName: string): Promise<CpuSegmentRunner> {
    const what = `${fileName}: the CPU part (${describeOps(segment.ops)})`;
    let interp: TfliteInterpreter;
    try {
      interp = await TfliteInterpreter.create(segment.tflite);
    } catch (e) {
      throw new Error(`${what} cannot be loaded in the TFLite runtime: ${(e as Error).message}`);
    }
    // The runtime lists tensors by name; map them to the boundary names (same order in practice, but do not rely on it).
    const pos = (list: { name: string }[], names: string[], kind: string) =>
      names.map((n) => {
        const i = list.findIndex((t) => t.name === n);
        if (i < 0) {
          interp.dispose();
          throw new Error(`${what}: the runtime does not list ${kind} '${n}'`);
        }
        return i;
      });
    return new CpuSegmentRunner(segment, interp, { inputs: pos(interp.inputs, segment.inputs, 'input'), outputs: pos(interp.outputs, segment.outputs, 'output') });
  }

  run(values: Map<string, Uint8Array>, fileName: string): void {
    this.segment.inputs.forEach((name, k) => {
      const bytes = values.get(name);
      const i = this.order.inputs[k]!;
      if (!bytes) throw new Error(`${fileName}: the CPU part (${describeOps(this.segment.ops)}) needs tensor '${name}', which no earlier part produced`);
      try {
        this.interp.setInput(i, runtimeArray(this.interp.inputs[i]!.dtype, bytes));
      } catch (e) {
        throw new Error(`${fileName}: tensor '${name}' for the CPU part: ${(e as Error).message}`);
      }
    });
    this.interp.invoke();
    this.segment.outputs.forEach((name, k) => values.set(name, runtimeBytes(this.interp.output(this.order.outputs[k]!))));
  }

  dispose(): void {
    this.interp.dispose();
  }
}

function describeOps(ops: string[]): string {
  const uniq = [...new Set(ops)];
  return `${ops.length} op${ops.length === 1 ? '' : 's'}: ${uniq.slice(0, 5).join(', ')}${uniq.length > 5 ? ', …' : ''}`;
}

/** One line per segment, e.g. "CPU: QUANTIZE → Edge TPU → CPU: DEQUANTIZE, MUL". */
export function describePartition(p: Partition): string {
  return p.segments.map((s) => (s.kind === 'tpu' ? 'Edge TPU' : `CPU: ${[...new Set(s.ops)].join(', ')}`)).join(' → ');
}
