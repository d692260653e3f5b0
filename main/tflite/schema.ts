/**
 * The one source of truth for the TFLite schema facts Edgewise needs: tensor types, builtin operator codes,
 * BuiltinOptions union indices and the field lists of every options table (ids = position in the list).
 * Written from tensorflow/compiler/mlir/lite/schema/schema.fbs (see /work/shared/reference/tflite-format.md §5–7).
 * Field names are the schema names in camelCase, which are also the IR attribute names.
 */

export const TENSOR_TYPES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8', 'FLOAT64',
  'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4', 'BFLOAT16', 'INT2', 'UINT4',
  'FLOAT8_E4M3FN', 'FLOAT8_E5M2',
] as const;
export type TensorTypeName = (typeof TENSOR_TYPES)[number];

/** Bytes per element for types with a fixed size (0 = variable or sub-byte: STRING, RESOURCE, VARIANT, INT4…). */
export const TENSOR_TYPE_BYTES: Record<TensorTypeName, number> = {
  FLOAT32: 4, FLOAT16: 2, INT32: 4, UINT8: 1, INT64: 8, STRING: 0, BOOL: 1, INT16: 2, COMPLEX64: 8, INT8: 1,
  FLOAT64: 8, COMPLEX128: 16, UINT64: 8, RESOURCE: 0, VARIANT: 0, UINT32: 4, UINT16: 2, INT4: 0, BFLOAT16: 2,
  INT2: 0, UINT4: 0, FLOAT8_E4M3FN: 1, FLOAT8_E5M2: 1,
};

/** BuiltinOperator enum, indexed by code (0..160; newer StableHLO codes are read as `BUILTIN_<code>`). */
export const BUILTIN_OPS = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU',
  'RELU_N1_TO_1', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH',
  'CONCAT_EMBEDDINGS', 'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD',
  'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN', 'SUB',
  'DIV', 'SQUEEZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP',
  'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM',
  'ARG_MAX', 'MINIMUM', 'LESS', 'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT', 'SLICE', 'SIN',
  'TRANSPOSE_CONV', 'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT',
  'SHAPE', 'POW', 'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT',
  'LOGICAL_AND', 'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL',
  'FLOOR_MOD', 'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS',
  'SPLIT_V', 'UNIQUE', 'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU',
  'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE', 'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE',
  'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM',
  'BATCH_MATMUL', 'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D',
  'IMAG', 'REAL', 'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL',
  'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE', 'ASSIGN_VARIABLE', 'BROADCAST_ARGS',
  'RANDOM_STANDARD_NORMAL', 'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE',
  'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM', 'ATAN2',
  'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT',
] as const;

const OP_CODE_BY_NAME = new Map<string, number>(BUILTIN_OPS.map((name, code) => [name, code]));

/** Name of a builtin code; codes this table does not know yet read as `BUILTIN_<code>` (kept opaque). */
export function builtinOpName(code: number): string {
  return BUILTIN_OPS[code] ?? `BUILTIN_${code}`;
}

/** Code of a builtin op name (also accepts `BUILTIN_<code>`), or undefined. */
export function builtinOpCode(name: string): number | undefined {
  const known = OP_CODE_BY_NAME.get(name);
  if (known !== undefined) return known;
  const m = /^BUILTIN_(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

// ---- Enums used inside options tables ---------------------------------------------------------------------

export const ENUMS = {
  padding: ['SAME', 'VALID'],
  activation: ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'],
  tensorType: TENSOR_TYPES,
  weightsFormat: ['DEFAULT', 'SHUFFLED4x16INT8'],
  mirrorPadMode: ['REFLECT', 'SYMMETRIC'],
  lshProjectionType: ['UNKNOWN', 'SPARSE', 'DENSE'],
  combiner: ['SUM', 'MEAN', 'SQRTN'],
  lstmKernelType: ['FULL', 'BASIC'],
} as const satisfies Record<string, readonly string[]>;
export type EnumName = keyof typeof ENUMS;

/**
 * Field kinds of options tables. Enums are stored as one byte (the schema declares them `byte`) and appear in the
 * plain model as their names. `ints`/`floats` are vectors of int32/float32.
 */
export type FieldKind =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'int32' | 'uint32' | 'int64' | 'float32'
  | 'string' | 'ints' | 'floats'
  | { enum: EnumName };

export interface FieldDef {
  name: string;
  kind: FieldKind;
  /** Schema default (numbers; enums by name). */
  default?: number | string | boolean;
}

export interface OptionsTableDef {
  name: string;
  fields: FieldDef[];
}

const pad: FieldDef = { name: 'padding', kind: { enum: 'padding' }, default: 'SAME' };
const act = (name = 'fusedActivationFunction'): FieldDef => ({ name, kind: { enum: 'activation' }, default: 'NONE' });
const i32 = (name: string, def = 0): FieldDef => ({ name, kind: 'int32', default: def });
const f32 = (name: string, def = 0): FieldDef => ({ name, kind: 'float32', default: def });
const bool = (name: string, def = false): FieldDef => ({ name, kind: 'bool', default: def });
const ttype = (name: string, def = 'FLOAT32'): FieldDef => ({ name, kind: { enum: 'tensorType' }, default: def });
const t = (name: string, ...fields: FieldDef[]): OptionsTableDef => ({ name, fields });

/** BuiltinOptions union members, indexed by union type (0 = NONE). */
export const OPTIONS_TABLES: (OptionsTableDef | null)[] = [
  null,
  t('Conv2DOptions', pad, i32('strideW'), i32('strideH'), act(), i32('dilationWFactor', 1), i32('dilationHFactor', 1), ttype('quantizedBiasType')),
  t('DepthwiseConv2DOptions', pad, i32('strideW'), i32('strideH'), i32('depthMultiplier'), act(), i32('dilationWFactor', 1), i32('dilationHFactor', 1)),
  t('ConcatEmbeddingsOptions', i32('numChannels'), { name: 'numColumnsPerChannel', kind: 'ints' }, { name: 'embeddingDimPerChannel', kind: 'ints' }),
  t('LSHProjectionOptions', { name: 'type', kind: { enum: 'lshProjectionType' }, default: 'UNKNOWN' }),
  t('Pool2DOptions', pad, i32('strideW'), i32('strideH'), i32('filterWidth'), i32('filterHeight'), act()),
  t('SVDFOptions', i32('rank'), act(), bool('asymmetricQuantizeInputs')),
  t('RNNOptions', act(), bool('asymmetricQuantizeInputs')),
  t('FullyConnectedOptions', act(), { name: 'weightsFormat', kind: { enum: 'weightsFormat' }, default: 'DEFAULT' }, bool('keepNumDims'), bool('asymmetricQuantizeInputs'), ttype('quantizedBiasType')),
  t('SoftmaxOptions', f32('beta')),
  t('ConcatenationOptions', i32('axis'), act()),
  t('AddOptions', act(), bool('potScaleInt16', true)),
  t('L2NormOptions', act()),
  t('LocalResponseNormalizationOptions', i32('radius'), f32('bias'), f32('alpha'), f32('beta')),
  t('LSTMOptions', act(), f32('cellClip'), f32('projClip'), { name: 'kernelType', kind: { enum: 'lstmKernelType' }, default: 'FULL' }, bool('asymmetricQuantizeInputs')),
  t('ResizeBilinearOptions', i32('newHeight'), i32('newWidth'), bool('alignCorners'), bool('halfPixelCenters')),
  t('CallOptions', { name: 'subgraph', kind: 'uint32', default: 0 }),
  t('ReshapeOptions', { name: 'newShape', kind: 'ints' }),
  t('SkipGramOptions', i32('ngramSize'), i32('maxSkipSize'), bool('includeAllNgrams')),
  t('SpaceToDepthOptions', i32('blockSize')),
  t('EmbeddingLookupSparseOptions', { name: 'combiner', kind: { enum: 'combiner' }, default: 'SUM' }),
  t('MulOptions', act()),
  t('PadOptions'),
  t('GatherOptions', i32('axis'), i32('batchDims')),
  t('BatchToSpaceNDOptions'),
  t('SpaceToBatchNDOptions'),
  t('TransposeOptions'),
  t('ReducerOptions', bool('keepDims')),
  t('SubOptions', act(), bool('potScaleInt16', true)),
  t('DivOptions', act()),
  t('SqueezeOptions', { name: 'squeezeDims', kind: 'ints' }),
  t('SequenceRNNOptions', bool('timeMajor'), act(), bool('asymmetricQuantizeInputs')),
  t('StridedSliceOptions', i32('beginMask'), i32('endMask'), i32('ellipsisMask'), i32('newAxisMask'), i32('shrinkAxisMask'), bool('offset')),
  t('ExpOptions'),
  t('TopKV2Options'),
  t('SplitOptions', i32('numSplits')),
  t('LogSoftmaxOptions'),
  t('CastOptions', ttype('inDataType'), ttype('outDataType')),
  t('DequantizeOptions'),
  t('MaximumMinimumOptions'),
  t('ArgMaxOptions', ttype('outputType')),
  t('LessOptions'),
  t('NegOptions'),
  t('PadV2Options'),
  t('GreaterOptions'),
  t('GreaterEqualOptions'),
  t('LessEqualOptions'),
  t('SelectOptions'),
  t('SliceOptions'),
  t('TransposeConvOptions', pad, i32('strideW'), i32('strideH'), act(), ttype('quantizedBiasType')),
  t('SparseToDenseOptions', bool('validateIndices')),
  t('TileOptions'),
  t('ExpandDimsOptions'),
  t('EqualOptions'),
  t('NotEqualOptions'),
  t('ShapeOptions', ttype('outType')),
  t('PowOptions'),
  t('ArgMinOptions', ttype('outputType')),
  t('FakeQuantOptions', f32('min'), f32('max'), i32('numBits'), bool('narrowRange')),
  t('PackOptions', i32('valuesCount'), i32('axis')),
  t('LogicalOrOptions'),
  t('OneHotOptions', i32('axis')),
  t('LogicalAndOptions'),
  t('LogicalNotOptions'),
  t('UnpackOptions', i32('num'), i32('axis')),
  t('FloorDivOptions'),
  t('SquareOptions'),
  t('ZerosLikeOptions'),
  t('FillOptions'),
  t('BidirectionalSequenceLSTMOptions', act(), f32('cellClip'), f32('projClip'), bool('mergeOutputs'), bool('timeMajor', true), bool('asymmetricQuantizeInputs')),
  t('BidirectionalSequenceRNNOptions', bool('timeMajor'), act(), bool('mergeOutputs'), bool('asymmetricQuantizeInputs')),
  t('UnidirectionalSequenceLSTMOptions', act(), f32('cellClip'), f32('projClip'), bool('timeMajor'), bool('asymmetricQuantizeInputs'), bool('diagonalRecurrentTensors')),
  t('FloorModOptions'),
  t('RangeOptions'),
  t('ResizeNearestNeighborOptions', bool('alignCorners'), bool('halfPixelCenters')),
  t('LeakyReluOptions', f32('alpha')),
  t('SquaredDifferenceOptions'),
  t('MirrorPadOptions', { name: 'mode', kind: { enum: 'mirrorPadMode' }, default: 'REFLECT' }),
  t('AbsOptions'),
  t('SplitVOptions', i32('numSplits')),
  t('UniqueOptions', ttype('idxOutType', 'INT32')),
  t('ReverseV2Options'),
  t('AddNOptions'),
  t('GatherNdOptions'),
  t('CosOptions'),
  t('WhereOptions'),
  t('RankOptions'),
  t('ReverseSequenceOptions', i32('seqDim'), i32('batchDim')),
  t('MatrixDiagOptions'),
  t('QuantizeOptions'),
  t('MatrixSetDiagOptions'),
  t('HardSwishOptions'),
  t('IfOptions', i32('thenSubgraphIndex'), i32('elseSubgraphIndex')),
  t('WhileOptions', i32('condSubgraphIndex'), i32('bodySubgraphIndex')),
  t('DepthToSpaceOptions', i32('blockSize')),
  t('NonMaxSuppressionV4Options'),
  t('NonMaxSuppressionV5Options'),
  t('ScatterNdOptions'),
  t('SelectV2Options'),
  t('DensifyOptions'),
  t('SegmentSumOptions'),
  t('BatchMatMulOptions', bool('adjX'), bool('adjY'), bool('asymmetricQuantizeInputs')),
  t('CumsumOptions', bool('exclusive'), bool('reverse')),
  t('CallOnceOptions', i32('initSubgraphIndex')),
  t('BroadcastToOptions'),
  t('Rfft2dOptions'),
  t('Conv3DOptions', pad, i32('strideD'), i32('strideW'), i32('strideH'), act(), i32('dilationDFactor', 1), i32('dilationWFactor', 1), i32('dilationHFactor', 1)),
  t('HashtableOptions', i32('tableId'), ttype('keyDtype'), ttype('valueDtype')),
  t('HashtableFindOptions'),
  t('HashtableImportOptions'),
  t('HashtableSizeOptions'),
  t('VarHandleOptions', { name: 'container', kind: 'string' }, { name: 'sharedName', kind: 'string' }),
  t('ReadVariableOptions'),
  t('AssignVariableOptions'),
  t('RandomOptions', { name: 'seed', kind: 'int64', default: 0 }, { name: 'seed2', kind: 'int64', default: 0 }),
  t('BucketizeOptions', { name: 'boundaries', kind: 'floats' }),
  t('GeluOptions', bool('approximate')),
  t('DynamicUpdateSliceOptions'),
  t('UnsortedSegmentProdOptions'),
  t('UnsortedSegmentMaxOptions'),
  t('UnsortedSegmentMinOptions'),
  t('UnsortedSegmentSumOptions'),
  t('ATan2Options'),
  t('SignOptions'),
  t('BitcastOptions'),
  t('BitwiseXorOptions'),
  t('RightShiftOptions'),
];

const OPTIONS_INDEX_BY_NAME = new Map<string, number>(
  OPTIONS_TABLES.flatMap((def, i) => (def ? [[def.name, i] as [string, number]] : [])),
);

export function optionsTableIndex(name: string): number | undefined {
  return OPTIONS_INDEX_BY_NAME.get(name);
}

/**
 * The options table the converter writes for each op (used by the exporter; ops not listed write no options).
 * Ops whose table is empty (HARD_SWISH, QUANTIZE…) are listed too when the converter writes the empty table.
 */
export const OP_OPTIONS: Record<string, string> = {
  ADD: 'AddOptions', AVERAGE_POOL_2D: 'Pool2DOptions', MAX_POOL_2D: 'Pool2DOptions', L2_POOL_2D: 'Pool2DOptions',
  CONCATENATION: 'ConcatenationOptions', CONV_2D: 'Conv2DOptions', DEPTHWISE_CONV_2D: 'DepthwiseConv2DOptions',
  DEPTH_TO_SPACE: 'DepthToSpaceOptions', SPACE_TO_DEPTH: 'SpaceToDepthOptions', FULLY_CONNECTED: 'FullyConnectedOptions',
  L2_NORMALIZATION: 'L2NormOptions', MUL: 'MulOptions', RESHAPE: 'ReshapeOptions', RESIZE_BILINEAR: 'ResizeBilinearOptions',
  SOFTMAX: 'SoftmaxOptions', PAD: 'PadOptions', PADV2: 'PadV2Options', GATHER: 'GatherOptions', TRANSPOSE: 'TransposeOptions',
  MEAN: 'ReducerOptions', SUM: 'ReducerOptions', REDUCE_MAX: 'ReducerOptions', REDUCE_MIN: 'ReducerOptions',
  REDUCE_PROD: 'ReducerOptions', SUB: 'SubOptions', DIV: 'DivOptions', SQUEEZE: 'SqueezeOptions',
  STRIDED_SLICE: 'StridedSliceOptions', SPLIT: 'SplitOptions', SPLIT_V: 'SplitVOptions', CAST: 'CastOptions',
  TRANSPOSE_CONV: 'TransposeConvOptions', RESIZE_NEAREST_NEIGHBOR: 'ResizeNearestNeighborOptions',
  LEAKY_RELU: 'LeakyReluOptions', MIRROR_PAD: 'MirrorPadOptions', PACK: 'PackOptions', UNPACK: 'UnpackOptions',
  HARD_SWISH: 'HardSwishOptions', BATCH_MATMUL: 'BatchMatMulOptions', GELU: 'GeluOptions', EXPAND_DIMS: 'ExpandDimsOptions',
  UNIDIRECTIONAL_SEQUENCE_LSTM: 'UnidirectionalSequenceLSTMOptions', LOG_SOFTMAX: 'LogSoftmaxOptions',
  MAXIMUM: 'MaximumMinimumOptions', MINIMUM: 'MaximumMinimumOptions', ARG_MAX: 'ArgMaxOptions', ARG_MIN: 'ArgMinOptions',
  SLICE: 'SliceOptions', SHAPE: 'ShapeOptions', EXP: 'ExpOptions',
};

/** Default value of one field as it appears in the plain model. */
export function fieldDefault(field: FieldDef): number | string | boolean | number[] {
  if (field.kind === 'ints' || field.kind === 'floats') return [];
  if (field.kind === 'string') return '';
  if (field.kind === 'int64') return 0;
  return field.default ?? (field.kind === 'bool' ? false : 0);
}
