/**
 * `.tflite` writer: turns the plain `TfliteModel` into FlatBuffer bytes with the npm `flatbuffers` Builder,
 * following the writer checklist in /work/shared/reference/tflite-format.md §1 (TFL3 identifier, empty buffer 0,
 * both opcode fields, 16-byte aligned buffer data). It writes exactly what the model says: op versions,
 * metadata and signatures are decided by the exporter (from-ir.ts), not here.
 */
import { Builder } from 'flatbuffers';
import { ENUMS, OPTIONS_TABLES, TENSOR_TYPES, optionsTableIndex, type FieldDef } from './schema.ts';
import type { BuiltinOptions, OptionValue, TfliteModel, TfliteOperator, TfliteQuantization, TfliteTensor } from './model.ts';

/** A FlatBuffer must stay below 2 GB (signed 32-bit offsets); larger models need external buffers. */
const MAX_FLATBUFFER_BYTES = 2 ** 31 - 1;

/** Creates a byte vector whose payload starts on an `align`-byte boundary of the finished file (force_align). */
function alignedBytes(b: Builder, data: Uint8Array, align: number): number {
  b.startVector(1, data.length, align);
  // The generated TS code ignores force_align, so reserve the space ourselves, like Builder.createByteVector.
  const raw = b as unknown as { space: number };
  raw.space -= data.length;
  b.dataBuffer().setPosition(raw.space);
  b.dataBuffer().bytes().set(data, raw.space);
  return b.endVector();
}

function intVector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
  return b.endVector();
}
function floatVector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]!);
  return b.endVector();
}
function longVector(b: Builder, values: readonly number[]): number {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(Math.round(values[i]!)));
  return b.endVector();
}
function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

function enumIndex(field: FieldDef, enumName: keyof typeof ENUMS, value: OptionValue, where: string): number {
  if (typeof value === 'number') return value;
  const i = (ENUMS[enumName] as readonly string[]).indexOf(String(value));
  if (i < 0) throw new Error(`${where}: option ${field.name} = ${JSON.stringify(value)} is not one of ${ENUMS[enumName].join(', ')}`);
  return i;
}

function writeOptions(b: Builder, options: BuiltinOptions, where: string): { type: number; offset: number } {
  const type = optionsTableIndex(options.type);
  const def = type === undefined ? undefined : OPTIONS_TABLES[type];
  if (type === undefined || !def) {
    throw new Error(`${where}: cannot write options table ${options.type} (unknown to this writer)`);
  }
  const value = (f: FieldDef): OptionValue => options[f.name] ?? (f.default as OptionValue | undefined) ?? 0;
  // Vectors and strings first: FlatBuffers forbids creating them while a table is open.
  const children = def.fields.map((f) => {
    const v = value(f);
    if (f.kind === 'ints') return Array.isArray(v) && v.length ? intVector(b, v) : 0;
    if (f.kind === 'floats') return Array.isArray(v) && v.length ? floatVector(b, v) : 0;
    if (f.kind === 'string') return v ? b.createString(String(v)) : 0;
    return 0;
  });
  b.startObject(def.fields.length);
  def.fields.forEach((f, id) => {
    const v = value(f);
    const k = f.kind;
    if (typeof k === 'object') {
      const names = ENUMS[k.enum] as readonly string[];
      b.addFieldInt8(id, enumIndex(f, k.enum, v, where), names.indexOf(String(f.default ?? names[0])));
      return;
    }
    switch (k) {
      case 'bool': b.addFieldInt8(id, v ? 1 : 0, f.default ? 1 : 0); break;
      case 'int8': case 'uint8': b.addFieldInt8(id, Number(v), Number(f.default ?? 0)); break;
      case 'int16': b.addFieldInt16(id, Number(v), Number(f.default ?? 0)); break;
      case 'int32': case 'uint32': b.addFieldInt32(id, Number(v), Number(f.default ?? 0)); break;
      case 'int64': b.addFieldInt64(id, BigInt(Number(v)), 0n); break;
      case 'float32': b.addFieldFloat32(id, Number(v), Number(f.default ?? 0)); break;
      default: if (children[id]) b.addFieldOffset(id, children[id]!, 0);
    }
  });
  return { type, offset: b.endObject() };
}

/**
 * Zero-point vectors written so far, by content, per builder. Per-channel weights and their biases carry one int64
 * zero point per channel (all 0); FlatBuffers lets tables share one vector, which keeps per-channel int8 models
 * ~12 % smaller (MobileNetV2: 17k channels × 8 bytes × 2). Readers and the TFLite verifier accept shared vectors.
 */
const sharedZeroPoints = new WeakMap<Builder, Map<string, number>>();

function zeroPointVector(b: Builder, values: number[]): number {
  let cache = sharedZeroPoints.get(b);
  if (!cache) sharedZeroPoints.set(b, (cache = new Map()));
  const key = values.join(',');
  let off = cache.get(key);
  if (off === undefined) cache.set(key, (off = longVector(b, values)));
  return off;
}

function writeQuantization(b: Builder, q: TfliteQuantization): number {
  const min = q.min.length ? floatVector(b, q.min) : 0;
  const max = q.max.length ? floatVector(b, q.max) : 0;
  const scale = q.scale.length ? floatVector(b, q.scale) : 0;
  const zp = q.zeroPoint.length ? zeroPointVector(b, q.zeroPoint) : 0;
  b.startObject(7);
  if (min) b.addFieldOffset(0, min, 0);
  if (max) b.addFieldOffset(1, max, 0);
  if (scale) b.addFieldOffset(2, scale, 0);
  if (zp) b.addFieldOffset(3, zp, 0);
  b.addFieldInt32(6, q.quantizedDimension, 0);
  return b.endObject();
}

function writeTensor(b: Builder, t: TfliteTensor, bufferCount: number, where: string): number {
  if (t.sparse) throw new Error(`${where}: sparse tensors cannot be written yet (densify the weights first)`);
  const type = TENSOR_TYPES.indexOf(t.type);
  if (type < 0) throw new Error(`${where}: unknown tensor type ${String(t.type)}`);
  if (!(t.buffer >= 0 && t.buffer < bufferCount)) throw new Error(`${where}: buffer ${t.buffer} does not exist (${bufferCount} buffers)`);
  const shape = intVector(b, t.shape);
  const name = b.createString(t.name);
  const quant = t.quantization ? writeQuantization(b, t.quantization) : 0;
  const signature = t.shapeSignature ? intVector(b, t.shapeSignature) : 0;
  b.startObject(8);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, type, 0);
  b.addFieldInt32(2, t.buffer, 0);
  b.addFieldOffset(3, name, 0);
  if (quant) b.addFieldOffset(4, quant, 0);
  b.addFieldInt8(5, t.isVariable ? 1 : 0, 0);
  if (signature) b.addFieldOffset(7, signature, 0);
  return b.endObject();
}

function writeOperator(b: Builder, op: TfliteOperator, tensorCount: number, opcodeCount: number, where: string): number {
  if (!(op.opcodeIndex >= 0 && op.opcodeIndex < opcodeCount)) throw new Error(`${where}: operator code ${op.opcodeIndex} does not exist`);
  for (const i of [...op.inputs, ...op.outputs, ...(op.intermediates ?? [])]) {
    if (!(i >= -1 && i < tensorCount)) throw new Error(`${where}: tensor index ${i} does not exist (${tensorCount} tensors)`);
  }
  const inputs = intVector(b, op.inputs);
  const outputs = intVector(b, op.outputs);
  const options = op.builtinOptions ? writeOptions(b, op.builtinOptions, where) : null;
  const custom = op.customOptions ? alignedBytes(b, op.customOptions, 1) : 0;
  let mutating = 0;
  if (op.mutatingVariableInputs?.length) {
    b.startVector(1, op.mutatingVariableInputs.length, 1);
    for (let i = op.mutatingVariableInputs.length - 1; i >= 0; i--) b.addInt8(op.mutatingVariableInputs[i] ? 1 : 0);
    mutating = b.endVector();
  }
  const intermediates = op.intermediates?.length ? intVector(b, op.intermediates) : 0;
  b.startObject(9);
  b.addFieldInt32(0, op.opcodeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  if (options) {
    b.addFieldInt8(3, options.type, 0);
    b.addFieldOffset(4, options.offset, 0);
  }
  if (custom) b.addFieldOffset(5, custom, 0);
  if (mutating) b.addFieldOffset(7, mutating, 0);
  if (intermediates) b.addFieldOffset(8, intermediates, 0);
  return b.endObject();
}

/** Serializes a model. Throws an Error naming the tensor/operator when the model refers to something missing. */
export function writeTflite(model: TfliteModel): Uint8Array {
  // buffers[0] is the empty sentinel every tensor without data points at; add it when a model has no buffers.
  const buffers = model.buffers.length ? model.buffers : [new Uint8Array(0)];
  if (buffers[0]!.length !== 0) throw new Error('writeTflite: buffers[0] must be empty (it is the "no data" sentinel)');
  const total = buffers.reduce((n, d) => n + d.length, 0);
  if (total > MAX_FLATBUFFER_BYTES) {
    throw new Error(`writeTflite: ${total} bytes of weights exceed the 2 GB FlatBuffer limit (external buffers are not supported yet)`);
  }
  const b = new Builder(Math.min(MAX_FLATBUFFER_BYTES, Math.max(1024, total + 64 * 1024)));

  const bufferOffsets = buffers.map((data) => {
    const vec = data.length ? alignedBytes(b, data, 16) : 0;
    b.startObject(3);
    if (vec) b.addFieldOffset(0, vec, 0);
    return b.endObject();
  });

  const subgraphOffsets = model.subgraphs.map((sg, si) => {
    const tensors = sg.tensors.map((t, i) => writeTensor(b, t, buffers.length, `subgraph ${si} tensor ${i} '${t.name}'`));
    const ops = sg.operators.map((op, i) => {
      const code = model.operatorCodes[op.opcodeIndex];
      return writeOperator(b, op, sg.tensors.length, model.operatorCodes.length, `subgraph ${si} operator ${i} (${code?.customCode ?? code?.builtin ?? '?'})`);
    });
    for (const i of [...sg.inputs, ...sg.outputs]) {
      if (!(i >= 0 && i < sg.tensors.length)) throw new Error(`subgraph ${si}: input/output tensor ${i} does not exist`);
    }
    const tensorVec = offsetVector(b, tensors);
    const inputs = intVector(b, sg.inputs);
    const outputs = intVector(b, sg.outputs);
    const opVec = offsetVector(b, ops);
    const name = b.createString(sg.name);
    b.startObject(5);
    b.addFieldOffset(0, tensorVec, 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    b.addFieldOffset(3, opVec, 0);
    b.addFieldOffset(4, name, 0);
    return b.endObject();
  });

  const codeOffsets = model.operatorCodes.map((c) => {
    const custom = c.customCode !== undefined ? b.createString(c.customCode) : 0;
    b.startObject(4);
    // Both fields, always (schema_conversion_utils.cc): old runtimes read only the deprecated byte.
    b.addFieldInt8(0, Math.min(c.builtinCode, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, c.version, 1);
    b.addFieldInt32(3, c.builtinCode, 0);
    return b.endObject();
  });

  const metadataOffsets = model.metadata.map((m) => {
    if (!(m.buffer >= 0 && m.buffer < buffers.length)) throw new Error(`metadata '${m.name}': buffer ${m.buffer} does not exist`);
    const name = b.createString(m.name);
    b.startObject(2);
    b.addFieldOffset(0, name, 0);
    b.addFieldInt32(1, m.buffer, 0);
    return b.endObject();
  });

  const tensorMaps = (maps: { name: string; tensorIndex: number }[]) =>
    offsetVector(b, maps.map((m) => {
      const name = b.createString(m.name);
      b.startObject(2);
      b.addFieldOffset(0, name, 0);
      b.addFieldInt32(1, m.tensorIndex, 0);
      return b.endObject();
    }));
  const signatureOffsets = model.signatureDefs.map((s) => {
    const inputs = tensorMaps(s.inputs);
    const outputs = tensorMaps(s.outputs);
    const key = b.createString(s.signatureKey);
    b.startObject(5);
    b.addFieldOffset(0, inputs, 0);
    b.addFieldOffset(1, outputs, 0);
    b.addFieldOffset(2, key, 0);
    b.addFieldInt32(4, s.subgraphIndex, 0);
    return b.endObject();
  });

  const codesVec = offsetVector(b, codeOffsets);
  const subgraphsVec = offsetVector(b, subgraphOffsets);
  const description = b.createString(model.description);
  const buffersVec = offsetVector(b, bufferOffsets);
  const metadataVec = metadataOffsets.length ? offsetVector(b, metadataOffsets) : 0;
  const signaturesVec = signatureOffsets.length ? offsetVector(b, signatureOffsets) : 0;
  b.startObject(8);
  b.addFieldInt32(0, model.version || 3, 0);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphsVec, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  if (metadataVec) b.addFieldOffset(6, metadataVec, 0);
  if (signaturesVec) b.addFieldOffset(7, signaturesVec, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}
