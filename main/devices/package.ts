/**
 * Reads a compiled `*_edgetpu.tflite`: finds the `edgetpu-custom-op` operator(s) through the shared `.tflite`
 * reader, decodes their FlexBuffer custom options, and parses the DarwiNN `Package` (FlatBuffer, identifier
 * `DWN1`, schema `executable/executable.fbs` of libedgetpu) into plain objects: executables with instruction
 * bitstreams and relocations, parameters, DMA hints and input/output layers.
 *
 * The DWN1 tables are read with the `flatbuffers` runtime's ByteBuffer plus bounds checks, so a corrupt file
 * gives an Error naming the file and the field instead of garbage numbers.
 */
import { ByteBuffer } from 'flatbuffers';
import { toReference } from 'flatbuffers/js/flexbuffers.js';
import { readTflite } from '../tflite/reader.ts';
import type { TfliteModel } from '../tflite/model.ts';

export const EDGETPU_CUSTOM_OP = 'edgetpu-custom-op';

export type ExecutableType = 'STAND_ALONE' | 'PARAMETER_CACHING' | 'EXECUTION_ONLY';
/** Meta.desc: which base address a relocation or DMA hint refers to. */
export type BufferKind = 'output' | 'input' | 'parameter' | 'scratch';
const BUFFER_KINDS: BufferKind[] = ['output', 'input', 'parameter', 'scratch'];

export interface Meta {
  desc: BufferKind;
  batch: number;
  name?: string;
  /** 0 = lower 32 bits of the address, 1 = upper 32 bits. */
  position: 0 | 1;
}

export interface FieldOffset {
  meta: Meta;
  offsetBit: number;
}

export interface InstructionBitstream {
  bitstream: Uint8Array;
  fieldOffsets: FieldOffset[];
}

export type DmaHint =
  | { kind: 'dma'; direction: 'infeed' | 'outfeed'; meta: Meta; offset: number; size: number }
  | { kind: 'instruction'; direction: 'infeed' | 'outfeed'; chunk: number }
  | { kind: 'interrupt'; direction: 'infeed' | 'outfeed'; interrupt: number }
  | { kind: 'fence'; direction: 'infeed' | 'outfeed' };

/** Tile → YXZ maps of a 3-D output (see executable.fbs OutputLayout). */
export interface OutputLayout {
  yToLinearTile: number[];
  xToLinearTile: number[];
  tileByteOffset: number[];
  xToLocalByteOffset: number[];
  yToLocalY: number[];
  xToLocalRowSize: number[];
}

export type LayerDataType = 'FIXED_POINT8' | 'FIXED_POINT16' | 'SIGNED_FIXED_POINT32' | 'BFLOAT' | 'HALF' | 'SINGLE' | 'SIGNED_FIXED_POINT8' | 'SIGNED_FIXED_POINT16';
const DATA_TYPES: Record<number, LayerDataType> = {
  0: 'FIXED_POINT8', 1: 'FIXED_POINT16', 2: 'SIGNED_FIXED_POINT32', 3: 'BFLOAT', 4: 'HALF', 5: 'SINGLE', 8: 'SIGNED_FIXED_POINT8', 9: 'SIGNED_FIXED_POINT16',
};
export const DATA_TYPE_BYTES: Record<LayerDataType, number> = {
  FIXED_POINT8: 1, FIXED_POINT16: 2, SIGNED_FIXED_POINT32: 4, BFLOAT: 2, HALF: 2, SINGLE: 4, SIGNED_FIXED_POINT8: 1, SIGNED_FIXED_POINT16: 2,
};

export interface Layer {
  name: string;
  /** Padded size for batch 1. */
  sizeBytes: number;
  y: number;
  x: number;
  z: number;
  zeroPoint: number;
  scale: number;
  dataType: LayerDataType;
  executionCount: number;
  layout?: OutputLayout;
}

export interface Executable {
  name: string;
  type: ExecutableType;
  batchSize: number;
  scratchSizeBytes: number;
  bitstreams: InstructionBitstream[];
  parameters: Uint8Array;
  hints: DmaHint[];
  fullyDeterministic: boolean;
  inputLayers: Layer[];
  outputLayers: Layer[];
  chip: string;
  estimatedCycles: number;
  usedNarrowMemoryBytesPerTile: number;
  parameterCachingToken: bigint;
}

export interface EdgeTpuPackage {
  minRuntimeVersion: number;
  compilerVersion: string;
  virtualChipId: number;
  modelIdentifier: string;
  executables: Executable[];
}

export interface EdgeTpuCustomOp {
  subgraph: number;
  operatorIndex: number;
  /** Tensor indices of the custom op in the TFLite subgraph. */
  inputs: number[];
  outputs: number[];
  customOpVersion: number;
  package: EdgeTpuPackage;
  /** The executables the driver runs: the main one and, when present, its parameter-caching partner. */
  main: Executable;
  caching?: Executable;
}

export interface EdgeTpuModel {
  fileName: string;
  tflite: TfliteModel;
  customOps: EdgeTpuCustomOp[];
}

export class EdgeTpuModelError extends Error {
  readonly code = 'BAD_MODEL';
  constructor(readonly fileName: string, problem: string) {
    super(`${fileName}: ${problem}`);
    this.name = 'EdgeTpuModelError';
  }
}

// ---- A small bounds-checked FlatBuffer table reader over flatbuffers' ByteBuffer ---------------------------

class Table {
  constructor(private readonly r: Reader, readonly pos: number, readonly what: string) {}
  private field(id: number): number {
    return this.r.bb.__offset(this.pos, 4 + 2 * id);
  }
  has(id: number): boolean {
    return this.field(id) !== 0;
  }
  int(id: number, dflt = 0): number {
    const o = this.field(id);
    if (!o) return dflt;
    this.r.need(this.pos + o, 4, `${this.what} field ${id}`);
    return this.r.bb.readInt32(this.pos + o);
  }
  short(id: number, dflt = 0): number {
    const o = this.field(id);
    if (!o) return dflt;
    this.r.need(this.pos + o, 2, `${this.what} field ${id}`);
    return this.r.bb.readInt16(this.pos + o);
  }
  ubyte(id: number, dflt = 0): number {
    const o = this.field(id);
    if (!o) return dflt;
    this.r.need(this.pos + o, 1, `${this.what} field ${id}`);
    return this.r.bb.readUint8(this.pos + o);
  }
  bool(id: number, dflt = false): boolean {
    return this.has(id) ? this.ubyte(id) !== 0 : dflt;
  }
  float(id: number, dflt = 0): number {
    const o = this.field(id);
    if (!o) return dflt;
    this.r.need(this.pos + o, 4, `${this.what} field ${id}`);
    return this.r.bb.readFloat32(this.pos + o);
  }
  long(id: number): bigint {
    const o = this.field(id);
    if (!o) return 0n;
    this.r.need(this.pos + o, 8, `${this.what} field ${id}`);
    return BigInt.asUintN(64, this.r.bb.readInt64(this.pos + o));
  }
  string(id: number): string | undefined {
    const b = this.bytes(id);
    return b ? new TextDecoder().decode(b) : undefined;
  }
  table(id: number, what: string): Table | undefined {
    const o = this.field(id);
    if (!o) return undefined;
    return new Table(this.r, this.r.indirect(this.pos + o, what), what);
  }
  private vector(id: number, elemSize: number, what: string): { start: number; length: number } | undefined {
    const o = this.field(id);
    if (!o) return undefined;
    const at = this.r.indirect(this.pos + o, what);
    this.r.need(at, 4, what);
    const length = this.r.bb.readUint32(at);
    this.r.need(at + 4, length * elemSize, `${what} (${length} elements)`);
    return { start: at + 4, length };
  }
  bytes(id: number): Uint8Array | undefined {
    const v = this.vector(id, 1, `${this.what} field ${id}`);
    return v ? this.r.bb.bytes().subarray(v.start, v.start + v.length) : undefined;
  }
  ints(id: number): number[] {
    const v = this.vector(id, 4, `${this.what} field ${id}`);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => this.r.bb.readInt32(v.start + 4 * i));
  }
  tables(id: number, what: (i: number) => string): Table[] {
    const v = this.vector(id, 4, `${this.what} field ${id}`);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => new Table(this.r, this.r.indirect(v.start + 4 * i, what(i)), what(i)));
  }
  byteVectors(id: number): Uint8Array[] {
    return this.tables(id, (i) => `${this.what} entry ${i}`).map((t) => {
      // A vector of strings/byte vectors: each entry is an offset to a length-prefixed vector.
      this.r.need(t.pos, 4, t.what);
      const n = this.r.bb.readUint32(t.pos);
      this.r.need(t.pos + 4, n, t.what);
      return this.r.bb.bytes().subarray(t.pos + 4, t.pos + 4 + n);
    });
  }
}

class Reader {
  readonly bb: ByteBuffer;
  constructor(bytes: Uint8Array, readonly fileName: string, readonly context: string) {
    this.bb = new ByteBuffer(bytes);
  }
  fail(problem: string): never {
    throw new EdgeTpuModelError(this.fileName, `${this.context}: ${problem}`);
  }
  need(at: number, len: number, what: string): void {
    if (at < 0 || len < 0 || at + len > this.bb.capacity()) this.fail(`${what} lies outside the data (offset ${at}, ${len} bytes, size ${this.bb.capacity()})`);
  }
  indirect(at: number, what: string): number {
    this.need(at, 4, what);
    const target = at + this.bb.readUint32(at);
    this.need(target, 4, what);
    return target;
  }
  root(what: string, identifier?: string): Table {
    this.need(0, 8, `${what} root`);
    if (identifier) {
      const id = String.fromCharCode(...this.bb.bytes().subarray(4, 8));
      if (id !== identifier) this.fail(`${what} has file identifier ${JSON.stringify(id)}, expected "${identifier}"`);
    }
    const pos = this.indirect(0, what);
    // Check the vtable too, so __offset never reads outside the buffer.
    this.need(pos - this.bb.readInt32(pos), 4, `${what} vtable`);
    return new Table(this, pos, what);
  }
}

// ---- DWN1 schema ---------------------------------------------------------------------------------------------

function readMeta(t: Table | undefined): Meta {
  if (!t) return { desc: 'output', batch: 0, position: 0 };
  const name = t.string(2);
  return { desc: BUFFER_KINDS[t.short(0)] ?? 'output', batch: t.int(1), ...(name !== undefined ? { name } : {}), position: t.short(3) === 1 ? 1 : 0 };
}

function readLayer(t: Table, isOutput: boolean): Layer {
  const numerics = t.table(5, `${t.what} numerics`);
  const dt = t.short(6);
  const dataType = DATA_TYPES[dt];
  if (!dataType) throw new Error(`${t.what} has unknown data type ${dt}`);
  const layer: Layer = {
    name: t.string(0) ?? '',
    sizeBytes: t.int(1),
    y: t.int(2),
    x: t.int(3),
    z: t.int(4),
    zeroPoint: numerics?.int(0) ?? 0,
    scale: numerics?.float(1) ?? 0,
    dataType,
    executionCount: t.int(9, 1),
  };
  // any_layer: union type at id 7 (1 = OutputLayer), value at id 8.
  if (isOutput && t.ubyte(7) === 1) {
    const out = t.table(8, `${t.what} OutputLayer`);
    const l = out?.table(0, `${t.what} layout`);
    if (l)
      layer.layout = {
        yToLinearTile: l.ints(0), xToLinearTile: l.ints(1), tileByteOffset: l.ints(2),
        xToLocalByteOffset: l.ints(3), yToLocalY: l.ints(4), xToLocalRowSize: l.ints(5),
      };
  }
  return layer;
}

function readHint(t: Table): DmaHint {
  const direction = t.short(2) === 1 ? 'outfeed' : 'infeed';
  const type = t.ubyte(0);
  const v = t.table(1, `${t.what} value`);
  switch (type) {
    case 1: return { kind: 'dma', direction, meta: readMeta(v?.table(0, `${t.what} meta`)), offset: v?.int(1) ?? 0, size: v?.int(2) ?? 0 };
    case 2: return { kind: 'instruction', direction, chunk: v?.int(0) ?? 0 };
    case 3: return { kind: 'interrupt', direction, interrupt: v?.short(0) ?? 0 };
    case 4: return { kind: 'fence', direction };
    default: throw new Error(`${t.what} has unknown hint type ${type}`);
  }
}

const EXE_TYPES: ExecutableType[] = ['STAND_ALONE', 'PARAMETER_CACHING', 'EXECUTION_ONLY'];

export function parseExecutable(bytes: Uint8Array, fileName: string, index: number): Executable {
  const r = new Reader(bytes, fileName, `Edge TPU executable ${index}`);
  const e = r.root('Executable');
  try {
    const hintsTable = e.table(7, 'dma_hints');
    const exe: Executable = {
      name: e.string(1) ?? '',
      batchSize: e.int(3, 1) || 1,
      scratchSizeBytes: e.int(4),
      bitstreams: e.tables(5, (i) => `instruction bitstream ${i}`).map((b) => ({
        bitstream: b.bytes(0) ?? new Uint8Array(0),
        fieldOffsets: b.tables(1, (i) => `${b.what} field offset ${i}`).map((f) => ({ meta: readMeta(f.table(0, `${f.what} meta`)), offsetBit: f.int(1) })),
      })),
      parameters: e.bytes(6) ?? new Uint8Array(0),
      hints: hintsTable ? hintsTable.tables(0, (i) => `DMA hint ${i}`).map(readHint) : [],
      fullyDeterministic: hintsTable?.bool(1) ?? false,
      inputLayers: e.tables(8, (i) => `input layer ${i}`).map((t) => readLayer(t, false)),
      outputLayers: e.tables(9, (i) => `output layer ${i}`).map((t) => readLayer(t, true)),
      chip: e.string(10) ?? '',
      estimatedCycles: Number(e.long(16)) || e.int(11),
      usedNarrowMemoryBytesPerTile: e.int(12),
      type: EXE_TYPES[e.short(13)] ?? 'STAND_ALONE',
      parameterCachingToken: e.long(14),
    };
    for (const h of exe.hints)
      if (h.kind === 'instruction' && !exe.bitstreams[h.chunk]) r.fail(`DMA hint refers to instruction chunk ${h.chunk} but there are ${exe.bitstreams.length}`);
    for (const [i, b] of exe.bitstreams.entries())
      for (const f of b.fieldOffsets)
        if (f.offsetBit < 0 || f.offsetBit + 32 > b.bitstream.length * 8) r.fail(`relocation at bit ${f.offsetBit} lies outside instruction chunk ${i} (${b.bitstream.length} bytes)`);
    return exe;
  } catch (err) {
    if (err instanceof EdgeTpuModelError) throw err;
    return r.fail((err as Error).message ?? String(err));
  }
}

export function parsePackage(bytes: Uint8Array, fileName: string): EdgeTpuPackage {
  const r = new Reader(bytes, fileName, 'Edge TPU package');
  const p = r.root('DWN1 package', 'DWN1');
  const multi = p.bytes(1) ?? r.fail('has no serialized_multi_executable');
  const m = new Reader(multi, fileName, 'Edge TPU MultiExecutable').root('MultiExecutable');
  const executables = m.byteVectors(0).map((b, i) => parseExecutable(b, fileName, i));
  if (!executables.length) r.fail('contains no executables');
  return {
    minRuntimeVersion: p.int(0),
    compilerVersion: p.string(4) ?? '',
    virtualChipId: p.int(5),
    modelIdentifier: p.string(7) ?? '',
    executables,
  };
}

/** The executables libedgetpu runs (package_registry.cc): 1 → STAND_ALONE; 2 → CACHING + EXECUTION_ONLY; else the STAND_ALONE one. */
export function pickExecutables(pkg: EdgeTpuPackage, fileName: string): { main: Executable; caching?: Executable } {
  const ex = pkg.executables;
  if (ex.length === 1) return { main: ex[0]! };
  const standAlone = ex.find((e) => e.type === 'STAND_ALONE');
  const exec = ex.find((e) => e.type === 'EXECUTION_ONLY');
  const caching = ex.find((e) => e.type === 'PARAMETER_CACHING');
  if (ex.length === 2 && exec && caching) return { main: exec, caching };
  if (standAlone) return { main: standAlone };
  throw new EdgeTpuModelError(fileName, `Edge TPU package has ${ex.length} executables (${ex.map((e) => e.type).join(', ')}) and no usable combination`);
}

/** Decodes the custom op's FlexBuffer map; key "4" holds the serialized package. */
export function readCustomOptions(options: Uint8Array, fileName: string): { version: number; packageBytes: Uint8Array } {
  try {
    const copy = options.slice();
    const root = toReference(copy.buffer);
    if (!root.isMap()) throw new Error('custom options are not a FlexBuffer map');
    const pkg = root.get('4' as unknown as number);
    const packageBytes = pkg.isBlob() ? pkg.blobValue() : pkg.isString() ? new TextEncoder().encode(pkg.stringValue() ?? '') : null;
    if (!packageBytes) throw new Error('key "4" (the DarwiNN package) is missing or not bytes');
    let version = 0;
    try { version = Number(root.get('1' as unknown as number).numericValue() ?? 0); } catch { /* optional */ }
    // Strings are UTF-8 decoded by toReference; take the raw bytes again to stay byte-exact.
    return { version, packageBytes: pkg.isBlob() ? packageBytes : rawStringBytes(copy, packageBytes) };
  } catch (e) {
    const msg = typeof e === 'string' ? e : (e as Error).message;
    throw new EdgeTpuModelError(fileName, `cannot read the ${EDGETPU_CUSTOM_OP} options: ${msg}`);
  }
}

/** Packages stored as FlexBuffer strings would be mangled by UTF-8 decoding; find them by the DWN1 identifier. */
function rawStringBytes(buf: Uint8Array, decoded: Uint8Array): Uint8Array {
  const at = indexOf(buf, [0x44, 0x57, 0x4e, 0x31]);
  if (at < 4) return decoded;
  const len = new DataView(buf.buffer, buf.byteOffset).getUint32(at - 8, true);
  return buf.subarray(at - 4, at - 4 + len);
}

function indexOf(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Parses a compiled model. Throws `EdgeTpuModelError` (file + problem) if it has no usable Edge TPU op. */
export function readEdgeTpuModel(bytes: Uint8Array, fileName = 'model_edgetpu.tflite'): EdgeTpuModel {
  const tflite = readTflite(bytes, fileName);
  const customOps: EdgeTpuCustomOp[] = [];
  tflite.subgraphs.forEach((sg, s) =>
    sg.operators.forEach((op, i) => {
      const code = tflite.operatorCodes[op.opcodeIndex];
      if (code?.customCode !== EDGETPU_CUSTOM_OP) return;
      if (!op.customOptions?.length) throw new EdgeTpuModelError(fileName, `operator ${i} (${EDGETPU_CUSTOM_OP}) has no custom options`);
      const { version, packageBytes } = readCustomOptions(op.customOptions, fileName);
      const pkg = parsePackage(packageBytes, fileName);
      if (pkg.virtualChipId === -1) throw new EdgeTpuModelError(fileName, 'is a multi-chip package, which the USB Accelerator cannot run');
      customOps.push({ subgraph: s, operatorIndex: i, inputs: op.inputs, outputs: op.outputs, customOpVersion: version, package: pkg, ...pickExecutables(pkg, fileName) });
    }),
  );
  if (!customOps.length)
    throw new EdgeTpuModelError(fileName, `has no ${EDGETPU_CUSTOM_OP} operator: it is not compiled for the Edge TPU (compile it with \`edgewise compile\`)`);
  return { fileName, tflite, customOps };
}
