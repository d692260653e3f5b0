/**
 * Test models with ops on the CPU around (and between) Edge TPU ops, built from the real Coral fixtures with our
 * reader/writer — there is no compiled mixed model in the fixtures and no edgetpu_compiler here.
 *
 * Each recipe is built twice from the same steps:
 *  - 'tpu': the compiled fixtures' `edgetpu-custom-op`s (bytes copied) with our CPU ops around them — what the
 *    compiler would emit for a model it could only partly map;
 *  - 'cpu': the same graph with each custom op replaced by the ops of its uncompiled twin — the CPU-only
 *    reference, runnable as a whole in the TFLite runtime.
 * The emulator computes each custom op with the same twin, so both must give the same outputs.
 */
import { readFileSync } from 'node:fs';
import { readTflite } from '../../main/tflite/reader.ts';
import { writeTflite } from '../../main/tflite/writer.ts';
import { BUILTIN_OPS, type TensorTypeName } from '../../main/tflite/schema.ts';
import type { BuiltinOptions, TfliteModel, TfliteOperator, TfliteOperatorCode, TfliteQuantization, TfliteTensor } from '../../main/tflite/model.ts';
import { EDGETPU_CUSTOM_OP } from '../../main/devices/package.ts';

export const CORAL_FIXTURES = new URL('../../../shared/fixtures/coral/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, CORAL_FIXTURES)));

const quant = (scale: number, zeroPoint: number): TfliteQuantization => ({ scale: [scale], zeroPoint: [zeroPoint], min: [], max: [], quantizedDimension: 0 });

class GraphBuilder {
  readonly tensors: TfliteTensor[] = [];
  readonly operators: TfliteOperator[] = [];
  readonly codes: TfliteOperatorCode[] = [];
  readonly buffers: Uint8Array[] = [new Uint8Array(0)];
  inputs: number[] = [];
  outputs: number[] = [];

  constructor(readonly mode: 'tpu' | 'cpu') {}

  tensor(name: string, shape: number[], type: TensorTypeName, q?: TfliteQuantization, data?: Uint8Array): number {
    const buffer = data ? this.buffers.push(data) - 1 : 0;
    return this.tensors.push({ name, shape, type, buffer, isVariable: false, ...(q ? { quantization: q } : {}) }) - 1;
  }

  private code(c: Omit<TfliteOperatorCode, 'builtinCode'> & { builtinCode?: number }): number {
    const builtinCode = c.builtinCode ?? BUILTIN_OPS.indexOf(c.builtin as (typeof BUILTIN_OPS)[number]);
    const i = this.codes.findIndex((x) => x.builtin === c.builtin && x.customCode === c.customCode && x.version === c.version);
    return i >= 0 ? i : this.codes.push({ builtin: c.builtin, builtinCode, version: c.version, ...(c.customCode ? { customCode: c.customCode } : {}) }) - 1;
  }

  op(builtin: string, inputs: number[], outputs: number[], options: BuiltinOptions | null, version = 1): void {
    this.operators.push({ opcodeIndex: this.code({ builtin, version }), inputs, outputs, builtinOptions: options });
  }

  /**
   * A compiled fixture's Edge TPU op ('tpu') or its twin's ops ('cpu'). `inputs` are our tensors for the op's
   * inputs (in custom-op order); returns our tensors for its outputs by name (copied from the compiled file).
   */
  compiled(name: string, inputs: number[]): Map<string, number> {
    const compiled = readTflite(fixture(`${name}_edgetpu.tflite`), `${name}_edgetpu.tflite`);
    const csg = compiled.subgraphs[0]!;
    const custom = csg.operators.find((o) => compiled.operatorCodes[o.opcodeIndex]!.customCode === EDGETPU_CUSTOM_OP)!;
    const outs = new Map<string, number>();
    for (const t of custom.outputs) {
      const src = csg.tensors[t]!;
      outs.set(src.name, this.tensor(src.name, src.shape, src.type, src.quantization));
    }
    if (this.mode === 'tpu') {
      this.operators.push({
        opcodeIndex: this.code({ builtin: 'CUSTOM', builtinCode: 32, customCode: EDGETPU_CUSTOM_OP, version: 1 }),
        inputs, outputs: [...outs.values()], builtinOptions: null, customOptions: custom.customOptions!.slice(),
      });
      return outs;
    }
    // Inline the twin: its graph inputs are ours (by custom-op position = name), its graph outputs land in ours by name.
    const twin = readTflite(fixture(`${name}.tflite`), `${name}.tflite`);
    const tsg = twin.subgraphs[0]!;
    const map = new Map<number, number>();
    custom.inputs.forEach((t, i) => map.set(tsg.inputs[tsg.inputs.findIndex((x) => tsg.tensors[x]!.name === csg.tensors[t]!.name)]!, inputs[i]!));
    for (const t of tsg.outputs) map.set(t, outs.get(tsg.tensors[t]!.name)!);
    const mapT = (t: number): number => {
      if (t < 0) return t;
      if (!map.has(t)) {
        const src = tsg.tensors[t]!;
        const data = twin.buffers[src.buffer];
        map.set(t, this.tensor(`${name}/${src.name}`, src.shape, src.type, src.quantization, data?.length ? data.slice() : undefined));
      }
      return map.get(t)!;
    };
    for (const o of tsg.operators) {
      const c = twin.operatorCodes[o.opcodeIndex]!;
      this.operators.push({ ...o, opcodeIndex: this.code(c), inputs: o.inputs.map(mapT), outputs: o.outputs.map(mapT) });
    }
    return outs;
  }

  bytes(description: string): Uint8Array {
    const model: TfliteModel = {
      version: 3, description, operatorCodes: this.codes,
      subgraphs: [{ name: 'main', tensors: this.tensors, inputs: this.inputs, outputs: this.outputs, operators: this.operators }],
      buffers: this.buffers, metadata: [], signatureDefs: [],
    };
    return writeTflite(model);
  }
}

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const i32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
const MOBILENET = 'mobilenet_v1_0.25_128_quant';
const MOBILENET_OUT = 'MobilenetV1/Predictions/Reshape_1';

/**
 * float image → QUANTIZE → [Edge TPU: MobileNet] → uint8 scores (graph output) → DEQUANTIZE → MUL ×100 → percent.
 * CPU before and after the TPU op; one TPU output is both a graph output and read by the CPU.
 */
function mobilenetAround(mode: 'tpu' | 'cpu'): Uint8Array {
  const b = new GraphBuilder(mode);
  const image = b.tensor('image', [1, 128, 128, 3], 'FLOAT32');
  const input = b.tensor('input', [1, 128, 128, 3], 'UINT8', quant(0.0078125, 128));
  b.op('QUANTIZE', [image], [input], { type: 'QuantizeOptions' });
  const scores = b.compiled(MOBILENET, [input]).get(MOBILENET_OUT)!;
  const probs = b.tensor('probs', [1, 1001], 'FLOAT32');
  b.op('DEQUANTIZE', [scores], [probs], { type: 'DequantizeOptions' });
  const hundred = b.tensor('hundred', [1], 'FLOAT32', undefined, f32([100]));
  const percent = b.tensor('percent', [1, 1001], 'FLOAT32');
  b.op('MUL', [probs, hundred], [percent], { type: 'MulOptions', fusedActivationFunction: 'NONE' });
  b.inputs = [image];
  b.outputs = [percent, scores];
  return b.bytes(`Edgewise test: QUANTIZE → ${MOBILENET} → DEQUANTIZE, MUL (${mode})`);
}

/**
 * Two Edge TPU ops with different parameter-caching tokens and CPU ops before, between and after:
 * float image → QUANTIZE → [TPU: MobileNet] → SLICE 192 scores → RESHAPE 8×8×3 → [TPU: split_concat, with two
 * more uint8 graph inputs] → CONCATENATION(split0, split2, split4) → DEQUANTIZE → float; `outputs/rnn2` straight out.
 */
function twoEdgeTpuOps(mode: 'tpu' | 'cpu'): Uint8Array {
  const b = new GraphBuilder(mode);
  const q = quant(0.0078125, 128);
  const image = b.tensor('image', [1, 128, 128, 3], 'FLOAT32');
  const input = b.tensor('input', [1, 128, 128, 3], 'UINT8', q);
  b.op('QUANTIZE', [image], [input], { type: 'QuantizeOptions' });
  const scores = b.compiled(MOBILENET, [input]).get(MOBILENET_OUT)!;
  const sliced = b.tensor('scores192', [1, 192], 'UINT8', quant(0.00390625, 0));
  b.op('SLICE', [scores, b.tensor('begin', [2], 'INT32', undefined, i32([0, 0])), b.tensor('size', [2], 'INT32', undefined, i32([1, 192]))], [sliced], { type: 'SliceOptions' });
  // RESHAPE copies bytes; the split_concat op reads them with its own quantization.
  const grid = b.tensor('grid', [1, 8, 8, 3], 'UINT8', q);
  b.op('RESHAPE', [sliced, b.tensor('grid_shape', [4], 'INT32', undefined, i32([1, 8, 8, 3]))], [grid], { type: 'ReshapeOptions', newShape: [1, 8, 8, 3] });
  const rnn1 = b.tensor('inputs/rnn1', [1, 8, 8, 1], 'UINT8', q);
  const rnn2 = b.tensor('inputs/rnn2', [1, 8, 8, 2], 'UINT8', q);
  const sc = b.compiled('split_concat', [grid, rnn1, rnn2]);
  const joined = b.tensor('joined', [1, 8, 8, 3], 'UINT8', q);
  b.op('CONCATENATION', [sc.get('concat/split0')!, sc.get('concat/split2')!, sc.get('concat/split4')!], [joined], { type: 'ConcatenationOptions', axis: 3, fusedActivationFunction: 'NONE' });
  const out = b.tensor('joined_float', [1, 8, 8, 3], 'FLOAT32');
  b.op('DEQUANTIZE', [joined], [out], { type: 'DequantizeOptions' });
  b.inputs = [image, rnn1, rnn2];
  b.outputs = [out, sc.get('outputs/rnn2')!];
  return b.bytes(`Edgewise test: ${MOBILENET} and split_concat Edge TPU ops with CPU ops around and between (${mode})`);
}

export interface MixedModel {
  name: string;
  /** As the compiler would emit it: Edge TPU ops plus CPU ops. */
  compiled: Uint8Array;
  /** The same graph all on the CPU (custom ops replaced by their uncompiled twins). */
  reference: Uint8Array;
  /** The fixture twins the emulator needs to compute the Edge TPU ops: [compiled fixture, twin] file names. */
  twins: [string, string][];
}

export function mixedModels(): MixedModel[] {
  const pair = (n: string): [string, string] => [`${n}_edgetpu.tflite`, `${n}.tflite`];
  return [
    { name: 'mobilenet_around', compiled: mobilenetAround('tpu'), reference: mobilenetAround('cpu'), twins: [pair(MOBILENET)] },
    { name: 'two_edgetpu_ops', compiled: twoEdgeTpuOps('tpu'), reference: twoEdgeTpuOps('cpu'), twins: [pair(MOBILENET), pair('split_concat')] },
  ];
}
