/**
 * The plain data model of a `.tflite` file: what `readTflite` returns and `writeTflite` takes. It mirrors the
 * FlatBuffer schema (field names in camelCase) so nothing is lost in a read → write round trip, but uses names
 * instead of enum numbers where that makes code readable (tensor types, op names, option enums).
 */
import type { TensorTypeName } from './schema.ts';

export type OptionValue = number | string | boolean | number[];

/**
 * A BuiltinOptions table: `type` is the options table name (`Conv2DOptions`), the other keys are its fields in
 * camelCase with defaults filled in. Tables this code cannot decode (a newer union member) are kept as
 * `{ type: 'UNKNOWN_<n>', unionType: n }` and refused by the writer.
 */
export interface BuiltinOptions {
  type: string;
  [field: string]: OptionValue | undefined;
}

export interface TfliteOperatorCode {
  /** Builtin operator name (`CONV_2D`, `CUSTOM`, or `BUILTIN_<code>` for codes newer than our table). */
  builtin: string;
  builtinCode: number;
  customCode?: string;
  version: number;
}

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  min: number[];
  max: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  name: string;
  shape: number[];
  /** −1 marks a dynamic dimension; absent when the file has none. */
  shapeSignature?: number[];
  type: TensorTypeName;
  /** Index into `buffers`; 0 = no constant data. */
  buffer: number;
  quantization?: TfliteQuantization;
  isVariable: boolean;
  /** The file stores this tensor's data sparse (SparsityParameters); kept as a flag, not re-encoded. */
  sparse?: boolean;
}

export interface TfliteOperator {
  opcodeIndex: number;
  /** Tensor indices; −1 = optional input not present. */
  inputs: number[];
  outputs: number[];
  builtinOptions: BuiltinOptions | null;
  /** CUSTOM ops: the raw option bytes (usually a FlexBuffer), never re-encoded. */
  customOptions?: Uint8Array;
  mutatingVariableInputs?: boolean[];
  intermediates?: number[];
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteMetadata {
  name: string;
  buffer: number;
}

export interface TfliteTensorMap {
  name: string;
  tensorIndex: number;
}

export interface TfliteSignatureDef {
  signatureKey: string;
  subgraphIndex: number;
  inputs: TfliteTensorMap[];
  outputs: TfliteTensorMap[];
}

export interface TfliteModel {
  version: number;
  description: string;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubgraph[];
  /** Buffer payloads (views into the file bytes when read; copy before mutating). buffers[0] is empty. */
  buffers: Uint8Array[];
  metadata: TfliteMetadata[];
  signatureDefs: TfliteSignatureDef[];
}

/** A file that is not a valid `.tflite` model, or uses something we cannot read. Names the file and the problem. */
export class TfliteFormatError extends Error {
  /** CLI/API error code (see preload/contract.ts). */
  readonly code = 'BAD_MODEL';
  constructor(
    readonly fileName: string,
    readonly problem: string,
  ) {
    super(`${fileName}: ${problem}`);
    this.name = 'TfliteFormatError';
  }
}

/** Reads a metadata entry's buffer as a NUL-terminated ASCII string (e.g. `min_runtime_version`). */
export function metadataString(model: TfliteModel, name: string): string | undefined {
  const entry = model.metadata.find((m) => m.name === name);
  const data = entry ? model.buffers[entry.buffer] : undefined;
  if (!data) return undefined;
  const end = data.indexOf(0);
  return new TextDecoder().decode(end < 0 ? data : data.subarray(0, end));
}
