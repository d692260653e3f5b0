/**
 * Defensive `.tflite` reader: a hand-written FlatBuffer walker in which every offset and length is bounds-checked
 * before use, so a truncated or corrupted file ends in a `TfliteFormatError` naming the file and the problem,
 * never in a RangeError, a hang or a huge allocation.
 *
 * Why not `flatc`-generated accessors: they trust every offset. Cycles are impossible here because uoffsets only
 * point forward and vtables hold no offsets, but a file can point many vector entries at the same big table; a
 * decode budget (total vector elements read, proportional to the file size) bounds the work.
 */
import {
  BUILTIN_OPS, ENUMS, OPTIONS_TABLES, TENSOR_TYPES, TENSOR_TYPE_BYTES, builtinOpName, fieldDefault,
  type FieldDef, type TensorTypeName,
} from './schema.ts';
import {
  TfliteFormatError, type BuiltinOptions, type OptionValue, type TfliteModel, type TfliteOperator,
  type TfliteOperatorCode, type TfliteQuantization, type TfliteSignatureDef, type TfliteSubgraph, type TfliteTensor,
} from './model.ts';

/** More elements than this in one tensor is treated as a corrupt shape (2^31, the FlatBuffer size limit). */
const MAX_ELEMENTS = 2 ** 31;

class Fb {
  readonly dv: DataView;
  private budget: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = bytes.length + 100_000;
  }
  fail(problem: string): never {
    throw new TfliteFormatError(this.file, problem);
  }
  check(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.length) {
      this.fail(`${what} lies outside the file (offset ${pos}, ${size} bytes, file is ${this.bytes.length} bytes)`);
    }
  }
  spend(n: number, what: string): void {
    this.budget -= n;
    if (this.budget < 0) this.fail(`${what}: the file references more elements than it could hold (corrupt offsets)`);
  }
  /** Follows the uoffset stored at `pos`. */
  deref(pos: number, what: string): number {
    this.check(pos, 4, what);
    const target = pos + this.dv.getUint32(pos, true);
    this.check(target, 4, what);
    return target;
  }
  table(pos: number, what: string): Table {
    return new Table(this, pos, what);
  }
}

class Table {
  private readonly vt: number;
  private readonly vtLen: number;
  private readonly size: number;
  constructor(
    readonly fb: Fb,
    readonly pos: number,
    readonly what: string,
  ) {
    fb.check(pos, 4, what);
    const vt = pos - fb.dv.getInt32(pos, true);
    fb.check(vt, 4, `${what} vtable`);
    const vtLen = fb.dv.getUint16(vt, true);
    const size = fb.dv.getUint16(vt + 2, true);
    if (vtLen < 4 || vtLen % 2 !== 0) fb.fail(`${what} has a corrupt vtable (length ${vtLen})`);
    fb.check(vt, vtLen, `${what} vtable`);
    if (size < 4) fb.fail(`${what} has a corrupt vtable (table size ${size})`);
    fb.check(pos, size, what);
    this.vt = vt;
    this.vtLen = vtLen;
    this.size = size;
  }
  /** Absolute position of field `id` after checking it fits in the table, or 0 when absent. */
  field(id: number, size: number): number {
    const entry = 4 + 2 * id;
    if (entry + 2 > this.vtLen) return 0;
    const off = this.fb.dv.getUint16(this.vt + entry, true);
    if (off === 0) return 0;
    if (off + size > this.size) this.fb.fail(`${this.what}: field ${id} lies outside its table`);
    return this.pos + off;
  }
  int8(id: number, def = 0): number { const p = this.field(id, 1); return p ? this.fb.dv.getInt8(p) : def; }
  uint8(id: number, def = 0): number { const p = this.field(id, 1); return p ? this.fb.dv.getUint8(p) : def; }
  bool(id: number, def = false): boolean { const p = this.field(id, 1); return p ? this.fb.dv.getUint8(p) !== 0 : def; }
  int16(id: number, def = 0): number { const p = this.field(id, 2); return p ? this.fb.dv.getInt16(p, true) : def; }
  int32(id: number, def = 0): number { const p = this.field(id, 4); return p ? this.fb.dv.getInt32(p, true) : def; }
  uint32(id: number, def = 0): number { const p = this.field(id, 4); return p ? this.fb.dv.getUint32(p, true) : def; }
  float32(id: number, def = 0): number { const p = this.field(id, 4); return p ? this.fb.dv.getFloat32(p, true) : def; }
  int64(id: number, def = 0): number { const p = this.field(id, 8); return p ? Number(this.fb.dv.getBigInt64(p, true)) : def; }
  uint64(id: number, def = 0): number { const p = this.field(id, 8); return p ? Number(this.fb.dv.getBigUint64(p, true)) : def; }

  /** Start and length of the vector at field `id` (elements of `elemSize` bytes), or null when absent. */
  vector(id: number, elemSize: number, name: string): { start: number; length: number } | null {
    const p = this.field(id, 4);
    if (!p) return null;
    const where = `${this.what} ${name}`;
    const vec = this.fb.deref(p, where);
    const length = this.fb.dv.getUint32(vec, true);
    if (length * elemSize > this.fb.bytes.length) {
      this.fb.fail(`${where} claims ${length} elements, more than the ${this.fb.bytes.length}-byte file can hold`);
    }
    this.fb.check(vec + 4, length * elemSize, where);
    return { start: vec + 4, length };
  }
  string(id: number, name: string): string | undefined {
    const v = this.vector(id, 1, name);
    if (!v) return undefined;
    return new TextDecoder().decode(this.fb.bytes.subarray(v.start, v.start + v.length));
  }
  bytes(id: number, name: string): Uint8Array | undefined {
    const v = this.vector(id, 1, name);
    return v ? this.fb.bytes.subarray(v.start, v.start + v.length) : undefined;
  }
  private numbers(id: number, name: string, size: number, get: (pos: number) => number): number[] | undefined {
    const v = this.vector(id, size, name);
    if (!v) return undefined;
    this.fb.spend(v.length, `${this.what} ${name}`);
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = get(v.start + i * size);
    return out;
  }
  ints(id: number, name: string): number[] | undefined {
    return this.numbers(id, name, 4, (p) => this.fb.dv.getInt32(p, true));
  }
  floats(id: number, name: string): number[] | undefined {
    return this.numbers(id, name, 4, (p) => this.fb.dv.getFloat32(p, true));
  }
  longs(id: number, name: string): number[] | undefined {
    return this.numbers(id, name, 8, (p) => Number(this.fb.dv.getBigInt64(p, true)));
  }
  bools(id: number, name: string): boolean[] | undefined {
    return this.numbers(id, name, 1, (p) => this.fb.dv.getUint8(p))?.map((b) => b !== 0);
  }
  table(id: number, what: string): Table | null {
    const p = this.field(id, 4);
    return p ? new Table(this.fb, this.fb.deref(p, what), what) : null;
  }
  tables(id: number, name: string, what: (i: number) => string): Table[] {
    const v = this.vector(id, 4, name);
    if (!v) return [];
    this.fb.spend(v.length, `${this.what} ${name}`);
    const out: Table[] = [];
    for (let i = 0; i < v.length; i++) {
      const label = what(i);
      out.push(new Table(this.fb, this.fb.deref(v.start + 4 * i, label), label));
    }
    return out;
  }
}

function tensorTypeName(fb: Fb, code: number, what: string): TensorTypeName {
  const name = TENSOR_TYPES[code];
  if (!name) fb.fail(`${what} has unknown tensor type ${code}`);
  return name;
}

function readOptions(t: Table, unionType: number, what: string): BuiltinOptions | null {
  if (unionType === 0) return null;
  const def = OPTIONS_TABLES[unionType];
  const table = t.table(4, `${what} options`);
  if (!def) return { type: `UNKNOWN_${unionType}`, unionType };
  const out: BuiltinOptions = { type: def.name };
  def.fields.forEach((f, id) => {
    out[f.name] = table ? readField(table, id, f) : fieldDefault(f);
  });
  return out;
}

function readField(t: Table, id: number, f: FieldDef): OptionValue {
  const def = f.default;
  const k = f.kind;
  if (typeof k === 'object') {
    const names: readonly string[] = ENUMS[k.enum];
    const fallback = names.indexOf(String(def ?? names[0]));
    const v = t.int8(id, fallback);
    return names[v] ?? v; // unknown enum values stay numeric rather than failing the whole file
  }
  switch (k) {
    case 'bool': return t.bool(id, Boolean(def));
    case 'int8': return t.int8(id, Number(def ?? 0));
    case 'uint8': return t.uint8(id, Number(def ?? 0));
    case 'int16': return t.int16(id, Number(def ?? 0));
    case 'int32': return t.int32(id, Number(def ?? 0));
    case 'uint32': return t.uint32(id, Number(def ?? 0));
    case 'int64': return t.int64(id, Number(def ?? 0));
    case 'float32': return t.float32(id, Number(def ?? 0));
    case 'string': return t.string(id, f.name) ?? '';
    case 'ints': return t.ints(id, f.name) ?? [];
    case 'floats': return t.floats(id, f.name) ?? [];
  }
}

function readQuantization(t: Table | null, what: string): TfliteQuantization | undefined {
  if (!t) return undefined;
  const q = {
    min: t.floats(0, 'min') ?? [],
    max: t.floats(1, 'max') ?? [],
    scale: t.floats(2, 'scale') ?? [],
    zeroPoint: t.longs(3, 'zero_point') ?? [],
    quantizedDimension: t.int32(6, 0),
  };
  if (q.scale.length !== q.zeroPoint.length && q.zeroPoint.length !== 0) {
    t.fb.fail(`${what} has ${q.scale.length} quantization scales but ${q.zeroPoint.length} zero points`);
  }
  // Converters write empty tables for float tensors; treat them as "not quantized".
  const empty = q.scale.length === 0 && q.zeroPoint.length === 0 && q.min.length === 0 && q.max.length === 0;
  return empty ? undefined : q;
}

function checkIndex(fb: Fb, index: number, count: number, what: string, kind: string): void {
  if (!(index >= 0 && index < count)) fb.fail(`${what} points at ${kind} ${index} but the model has ${count} ${kind}s`);
}

/**
 * Parses a `.tflite` file into the plain `TfliteModel`. Throws `TfliteFormatError` naming `fileName` and the
 * problem for anything malformed: wrong magic, truncation, offsets outside the file, out-of-range indices,
 * shapes or buffers of absurd size.
 */
export function readTflite(bytes: Uint8Array, fileName = 'model.tflite'): TfliteModel {
  const fb = new Fb(bytes, fileName);
  if (bytes.length < 8) fb.fail(`file is ${bytes.length} bytes, too short to be a TFLite model`);
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== 'TFL3') {
    fb.fail(`not a TFLite model (file identifier is ${JSON.stringify(ident)}, expected "TFL3")`);
  }
  const root = fb.table(fb.deref(0, 'root table'), 'Model');
  const version = root.uint32(0);

  const operatorCodes: TfliteOperatorCode[] = root.tables(1, 'operator_codes', (i) => `operator code ${i}`).map((t) => {
    const code = Math.max(t.int8(0), t.int32(3)); // schema_utils.cc: older files only have the deprecated field
    const customCode = t.string(1, 'custom_code');
    return { builtin: builtinOpName(code), builtinCode: code, ...(customCode !== undefined ? { customCode } : {}), version: t.int32(2, 1) };
  });

  // Buffers first: tensors are checked against their sizes.
  const buffers: Uint8Array[] = root.tables(4, 'buffers', (i) => `buffer ${i}`).map((t, i) => {
    const inline = t.bytes(0, 'data');
    const offset = t.uint64(1);
    const size = t.uint64(2);
    if (offset > 1) {
      // Data stored outside the FlatBuffer (models > 2 GB): offset counts from the file start.
      if (offset + size > bytes.length) {
        fb.fail(`buffer ${i} claims ${size} bytes at file offset ${offset} but the file is ${bytes.length} bytes`);
      }
      return bytes.subarray(offset, offset + size);
    }
    return inline ?? new Uint8Array(0);
  });

  const subgraphs: TfliteSubgraph[] = root.tables(2, 'subgraphs', (i) => `subgraph ${i}`).map((sg, si) => {
    const tensors: TfliteTensor[] = sg.tables(0, 'tensors', (i) => `subgraph ${si} tensor ${i}`).map((t, ti) => {
      const name = t.string(3, 'name') ?? '';
      const what = `tensor ${ti}${name ? ` '${name}'` : ''}`;
      const shape = t.ints(0, 'shape') ?? [];
      const type = tensorTypeName(fb, t.int8(1), what);
      const buffer = t.uint32(2);
      // Buffer 0 means "no data" even in files that omit the sentinel (e.g. programmatic models with no buffers).
      if (buffer !== 0) checkIndex(fb, buffer, buffers.length, what, 'buffer');
      const shapeSignature = t.ints(7, 'shape_signature');
      let elements = 1;
      for (const d of shape) {
        if (d < -1) fb.fail(`${what} has a negative dimension in shape [${shape.join(', ')}]`);
        elements *= Math.max(d, 1);
      }
      if (elements > MAX_ELEMENTS) fb.fail(`${what} has shape [${shape.join(', ')}] (${elements} elements), which no model can hold`);
      const sparse = t.field(6, 4) !== 0;
      const data = buffers[buffer] ?? new Uint8Array(0);
      const elemBytes = TENSOR_TYPE_BYTES[type];
      if (buffer !== 0 && data.length > 0 && !sparse && elemBytes > 0 && data.length !== elements * elemBytes) {
        fb.fail(`${what} has shape [${shape.join(', ')}] of ${type} (${elements * elemBytes} bytes) but its buffer ${buffer} holds ${data.length} bytes`);
      }
      const quantization = readQuantization(t.table(4, `${what} quantization`), what);
      if (quantization && quantization.scale.length > 1) {
        const dim = quantization.quantizedDimension;
        if (!(dim >= 0 && dim < shape.length) || shape[dim] !== quantization.scale.length) {
          fb.fail(`${what} has ${quantization.scale.length} per-channel scales but quantized dimension ${dim} of shape [${shape.join(', ')}] does not match`);
        }
      }
      const tensor: TfliteTensor = { name, shape, type, buffer, isVariable: t.bool(5) };
      if (shapeSignature) tensor.shapeSignature = shapeSignature;
      if (quantization) tensor.quantization = quantization;
      if (sparse) tensor.sparse = true;
      return tensor;
    });
    const tensorIndex = (list: number[] | undefined, what: string, allowAbsent: boolean): number[] => {
      for (const i of list ?? []) {
        if (allowAbsent && i === -1) continue;
        checkIndex(fb, i, tensors.length, what, 'tensor');
      }
      return list ?? [];
    };
    const operators: TfliteOperator[] = sg.tables(3, 'operators', (i) => `subgraph ${si} operator ${i}`).map((o, oi) => {
      const opcodeIndex = o.uint32(0);
      checkIndex(fb, opcodeIndex, operatorCodes.length, `operator ${oi}`, 'operator code');
      const code = operatorCodes[opcodeIndex]!;
      const what = `operator ${oi} (${code.customCode ?? code.builtin})`;
      const op: TfliteOperator = {
        opcodeIndex,
        inputs: tensorIndex(o.ints(1, 'inputs'), what, true),
        outputs: tensorIndex(o.ints(2, 'outputs'), what, false),
        builtinOptions: readOptions(o, o.uint8(3), what),
      };
      const custom = o.bytes(5, 'custom_options');
      const largeOffset = o.uint64(9);
      const largeSize = o.uint64(10);
      if (custom) op.customOptions = custom;
      else if (largeOffset > 1) {
        if (largeOffset + largeSize > bytes.length) fb.fail(`${what} custom options lie outside the file`);
        op.customOptions = bytes.subarray(largeOffset, largeOffset + largeSize);
      }
      const mutating = o.bools(7, 'mutating_variable_inputs');
      if (mutating?.length) op.mutatingVariableInputs = mutating;
      const intermediates = o.ints(8, 'intermediates');
      if (intermediates?.length) op.intermediates = tensorIndex(intermediates, what, false);
      return op;
    });
    return {
      name: sg.string(4, 'name') ?? '',
      tensors,
      inputs: tensorIndex(sg.ints(1, 'inputs'), `subgraph ${si} inputs`, false),
      outputs: tensorIndex(sg.ints(2, 'outputs'), `subgraph ${si} outputs`, false),
      operators,
    };
  });
  if (subgraphs.length === 0) fb.fail('the model has no subgraphs');

  const metadata = root.tables(6, 'metadata', (i) => `metadata ${i}`).map((m, i) => {
    const name = m.string(0, 'name') ?? '';
    const buffer = m.uint32(1);
    checkIndex(fb, buffer, buffers.length, `metadata ${i} '${name}'`, 'buffer');
    return { name, buffer };
  });

  const signatureDefs: TfliteSignatureDef[] = root.tables(7, 'signature_defs', (i) => `signature ${i}`).map((s, i) => {
    const subgraphIndex = s.uint32(4);
    checkIndex(fb, subgraphIndex, subgraphs.length, `signature ${i}`, 'subgraph');
    const count = subgraphs[subgraphIndex]!.tensors.length;
    const maps = (id: number, kind: string) =>
      s.tables(id, kind, (j) => `signature ${i} ${kind} ${j}`).map((m, j) => {
        const tensorIndex = m.uint32(1);
        checkIndex(fb, tensorIndex, count, `signature ${i} ${kind} ${j}`, 'tensor');
        return { name: m.string(0, 'name') ?? '', tensorIndex };
      });
    return { signatureKey: s.string(2, 'signature_key') ?? '', subgraphIndex, inputs: maps(0, 'inputs'), outputs: maps(1, 'outputs') };
  });

  return {
    version,
    description: root.string(3, 'description') ?? '',
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    signatureDefs,
  };
}

/** Builtin operator names known to this reader (for docs and inspect). */
export const KNOWN_BUILTIN_OPS: readonly string[] = BUILTIN_OPS;
