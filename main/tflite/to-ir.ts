/**
 * TFLite → IR. Float32, fp16-weight (FLOAT16 constants + DEQUANTIZE) and quantized models convert one to one:
 * tensors keep their names, types and quantization parameters, ops keep their builtin names and options
 * (as camelCase attrs), CUSTOM ops keep their code and raw option bytes.
 */
import { validateGraph, type Graph, type Op, type Tensor } from '../model/ir.ts';
import { TfliteFormatError, metadataString, type TfliteModel } from './model.ts';
import { irDtypeOf, typedArrayFromBytes } from './dtypes.ts';

const CONTROL_FLOW = new Set(['IF', 'WHILE', 'CALL', 'CALL_ONCE']);

export function tfliteToGraph(model: TfliteModel, fileName = 'model.tflite'): Graph {
  const fail = (problem: string): never => {
    throw new TfliteFormatError(fileName, problem);
  };
  const sg = model.subgraphs[0];
  if (!sg) return fail('the model has no subgraphs');

  // Unique, non-empty names: the IR addresses tensors by name.
  const used = new Set<string>();
  const unique = (base: string, fallback: string) => {
    let name = base || fallback;
    for (let k = 1; used.has(name); k++) name = `${base || fallback}_${k}`;
    used.add(name);
    return name;
  };
  const names = sg.tensors.map((t, i) => unique(t.name, `tensor_${i}`));

  const tensors = new Map<string, Tensor>();
  sg.tensors.forEach((t, i) => {
    const name = names[i]!;
    const dtype = irDtypeOf(t.type);
    if (!dtype) fail(`tensor ${i} '${name}' has type ${t.type}, which Edgewise cannot represent`);
    if (t.sparse) fail(`tensor ${i} '${name}' stores sparse weights, which Edgewise cannot import yet`);
    const shape = [...t.shape];
    if (t.shapeSignature?.[0] === -1 && shape.length > 0) shape[0] = -1;
    const tensor: Tensor = { name, shape, dtype: dtype! };
    const data = model.buffers[t.buffer];
    if (t.buffer !== 0 && data && data.length > 0) tensor.data = typedArrayFromBytes(dtype!, data);
    const q = t.quantization;
    if (q && q.scale.length > 0) {
      tensor.quant = {
        scale: [...q.scale],
        zeroPoint: q.zeroPoint.length ? [...q.zeroPoint] : q.scale.map(() => 0),
        ...(q.scale.length > 1 ? { axis: q.quantizedDimension } : {}),
        ...(q.min.length ? { min: [...q.min] } : {}),
        ...(q.max.length ? { max: [...q.max] } : {}),
      };
    }
    if (t.isVariable) tensor.isVariable = true;
    tensors.set(name, tensor);
  });

  const opNames = new Set<string>();
  const ops: Op[] = sg.operators.map((o, i) => {
    const code = model.operatorCodes[o.opcodeIndex]!;
    if (CONTROL_FLOW.has(code.builtin)) fail(`operator ${i} is ${code.builtin}, control flow across subgraphs is not supported`);
    const attrs: Op['attrs'] = {};
    if (o.builtinOptions) {
      if (o.builtinOptions.type.startsWith('UNKNOWN_')) {
        fail(`operator ${i} (${code.builtin}) has an options table this version of Edgewise does not know`);
      }
      for (const [k, v] of Object.entries(o.builtinOptions)) if (k !== 'type' && v !== undefined) attrs[k] = v;
    }
    // Quantized LSTMs carry intermediate tensors (gate quantization params) the kernel needs at prepare time.
    if (o.intermediates?.length) attrs.intermediates = o.intermediates.map((t) => names[t]!);
    const base = names[o.outputs[0] ?? -1] ?? `${code.builtin.toLowerCase()}_${i}`;
    let opName = base;
    for (let k = 1; opNames.has(opName); k++) opName = `${base}_${k}`;
    opNames.add(opName);
    const op: Op = {
      name: opName,
      type: code.builtin,
      inputs: o.inputs.map((t) => (t === -1 ? '' : names[t]!)),
      outputs: o.outputs.map((t) => names[t]!),
      attrs,
    };
    if (code.builtin === 'CUSTOM') {
      op.customCode = code.customCode ?? '';
      op.customOptions = o.customOptions ?? new Uint8Array(0);
    }
    return op;
  });

  const metadata: Record<string, string> = { format: 'tflite', fileName };
  if (model.description) metadata.description = model.description;
  const mrv = metadataString(model, 'min_runtime_version');
  if (mrv) metadata.minRuntimeVersion = mrv;

  const graph: Graph = {
    name: sg.name || fileName.replace(/\.tflite$/i, ''),
    inputs: sg.inputs.map((i) => names[i]!),
    outputs: sg.outputs.map((i) => names[i]!),
    tensors,
    ops,
    metadata,
  };
  try {
    validateGraph(graph);
  } catch (e) {
    fail(`the operator graph is inconsistent: ${e instanceof Error ? e.message : String(e)}`);
  }
  return graph;
}
