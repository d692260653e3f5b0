/** IR dtype ⇄ TFLite tensor type, and constant bytes ⇄ typed arrays (one place for both directions). */
import type { DType, TensorData } from '../model/ir.ts';
import type { TensorTypeName } from './schema.ts';

const IR_TO_TFLITE: Record<DType, TensorTypeName> = {
  float32: 'FLOAT32', float16: 'FLOAT16', int32: 'INT32', int64: 'INT64', int16: 'INT16', int8: 'INT8', uint8: 'UINT8', bool: 'BOOL',
};
const TFLITE_TO_IR = new Map<TensorTypeName, DType>(Object.entries(IR_TO_TFLITE).map(([ir, tfl]) => [tfl, ir as DType]));

export function tfliteTypeOf(dtype: DType): TensorTypeName {
  return IR_TO_TFLITE[dtype];
}

/** The IR dtype of a TFLite type, or undefined for types the IR does not hold (STRING, COMPLEX64, …). */
export function irDtypeOf(type: TensorTypeName): DType | undefined {
  return TFLITE_TO_IR.get(type);
}

/** Copies raw little-endian bytes into a fresh, aligned typed array of the IR dtype. */
export function typedArrayFromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const buf = bytes.slice().buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(buf);
    case 'float16': return new Uint16Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': case 'bool': return new Uint8Array(buf);
  }
}

/** The little-endian bytes of a typed array (a copy; the host is little-endian like the file format). */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** Bytes per element of an IR dtype. */
export function dtypeBytes(dtype: DType): number {
  return { float32: 4, float16: 2, int32: 4, int64: 8, int16: 2, int8: 1, uint8: 1, bool: 1 }[dtype];
}
