/**
 * TF.js graph model (model.json with format "graph-model" + weight shards) → IR, for the common image-model ops:
 * Placeholder, Const, Identity, Conv2D, DepthwiseConv2dNative, MatMul, BiasAdd, _FusedConv2D,
 * FusedDepthwiseConv2dNative, _FusedMatMul, Add/AddV2, Sub, Mul, Relu, Relu6, Elu, LeakyRelu, Sigmoid, Tanh, MaxPool,
 * AvgPool, Pad/PadV2, Reshape, Squeeze, ConcatV2, Mean, Max, Softmax. TF layouts become TFLite layouts
 * (Conv2D HWIO → OHWI, depthwise HWCM → [1,H,W,C·M], MatMul [in,out] → [out,in]).
 */
import { dirname } from 'node:path';
import type { ActivationFn, Graph } from '../ir.ts';
import { validateGraph } from '../ir.ts';
import { GraphBuilder } from '../builder.ts';
import { broadcastShape, convOutShape, hwioToOhwi, transpose2d } from './keras-layers.ts';
import { readTfjsWeights } from './tfjs-weights.ts';
import type { DecodedWeight, ManifestGroup } from './tfjs-weights.ts';
import { ModelImportError, asImportError } from '../errors.ts';

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, any>;
}

export const SUPPORTED_GRAPH_OPS = ['Placeholder', 'Const', 'Identity', 'NoOp', 'Conv2D', 'DepthwiseConv2dNative', 'MatMul',
  'BiasAdd', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul', 'Add', 'AddV2', 'Sub', 'Mul', 'Relu', 'Relu6',
  'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'MaxPool', 'AvgPool', 'Pad', 'PadV2', 'Reshape', 'Squeeze', 'ConcatV2', 'Mean',
  'Max', 'Softmax'];

const str = (a: any): string => (a?.s !== undefined ? Buffer.from(String(a.s), 'base64').toString('utf8') : '');
const ints = (a: any): number[] => (a?.list?.i ?? []).map(Number);
const strs = (a: any): string[] => (a?.list?.s ?? []).map((s: string) => Buffer.from(s, 'base64').toString('utf8'));

export function importTfjsGraph(json: any, modelFile: string): Graph {
  try {
    return importTfjsGraphCore(json, modelFile);
  } catch (e) {
    throw asImportError(modelFile, e);
  }
}

function importTfjsGraphCore(json: any, modelFile: string): Graph {
  const nodes: TfNode[] = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new ModelImportError(modelFile, `modelTopology.node is missing; not a TF.js graph model`);
  const weights = readTfjsWeights(dirname(modelFile), (json.weightsManifest ?? []) as ManifestGroup[], modelFile);
  const b = new GraphBuilder(String(json.modelTopology?.name ?? 'graph_model'), {
    format: 'tfjs-graph',
    ...(json.convertedBy ? { convertedBy: String(json.convertedBy) } : {}),
  });
  const consts = new Map<string, DecodedWeight>();
  const alias = new Map<string, string>(); // TF tensor name → IR tensor name
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const done = new Set<string>();
  const ref = (input: string): string => input.replace(/^\^/, '').replace(/:0$/, '');
  const fail = (n: TfNode, msg: string): never => {
    throw new ModelImportError(modelFile, `node "${n.name}" (${n.op}): ${msg}`);
  };
  const constOf = (n: TfNode, i: number): DecodedWeight => {
    const c = consts.get(ref(n.input![i]));
    if (!c) fail(n, `input ${i} ("${n.input![i]}") must be a constant`);
    return c!;
  };
  const t = (n: TfNode, i: number): string => {
    const name = ref(n.input![i]);
    const a = alias.get(name);
    if (a) return a;
    const c = consts.get(name);
    if (c) {
      const ir = b.tensor(name, c.shape, c.dtype === 'int32' ? 'int32' : 'float32', c.data instanceof Uint8Array ? Float32Array.from(c.data) : c.data);
      alias.set(name, ir);
      return ir;
    }
    return fail(n, `reads "${name}" before it is computed`);
  };
  const src = (n: TfNode) => ({ layer: n.name, className: n.op });

  /** Conv-like ops with optional fused BiasAdd and activation. */
  const fusedAct = (n: TfNode): { act: ActivationFn; extra?: string } => {
    const ops = strs(n.attr?.fused_ops);
    if (ops.length && ops[0] !== 'BiasAdd') fail(n, `fused ops [${ops}] are not supported (BiasAdd[, activation])`);
    const a = ops[1];
    if (!a) return { act: 'NONE' };
    if (a === 'Relu') return { act: 'RELU' };
    if (a === 'Relu6') return { act: 'RELU6' };
    if (['Elu', 'Sigmoid', 'Tanh'].includes(a)) return { act: 'NONE', extra: a };
    return fail(n, `fused activation ${a} is not supported`);
  };
  const afterAct = (n: TfNode, y: string, extra?: string): string => {
    if (!extra) return y;
    const type = { Elu: 'ELU', Sigmoid: 'LOGISTIC', Tanh: 'TANH' }[extra]!;
    return b.op(`${n.name}/${extra}`, type, [y], b.shapeOf(y), {}, src(n));
  };
  const biasFor = (n: TfNode, fused: boolean, ch: number): string => {
    if (!fused) return b.constFloat(`${n.name}/bias`, [ch], new Float32Array(ch));
    const c = constOf(n, 2);
    if (c.data.length !== ch) fail(n, `bias has ${c.data.length} values, expected ${ch}`);
    return b.constFloat(`${n.name}/bias`, [ch], c.data as Float32Array);
  };
  const checkNhwc = (n: TfNode) => {
    const f = str(n.attr?.data_format);
    if (f && f !== 'NHWC') fail(n, `data_format ${f} is not supported (NHWC only)`);
  };
  const pad = (n: TfNode): 'SAME' | 'VALID' => {
    const p = str(n.attr?.padding);
    if (p !== 'SAME' && p !== 'VALID') fail(n, `padding ${p} is not supported`);
    return p as 'SAME' | 'VALID';
  };

  const lower = (n: TfNode): void => {
    const fusedBias = n.op.startsWith('_Fused') || n.op === 'FusedDepthwiseConv2dNative';
    switch (n.op) {
      case 'Const': {
        const w = weights.get(n.name);
        if (w) consts.set(n.name, w);
        else {
          // Small constants may be inlined in the node (tensor attr); support scalars/int lists.
          const tv = n.attr?.value?.tensor;
          const vals: number[] = tv?.intVal ?? tv?.floatVal ?? [];
          const dims = (tv?.tensorShape?.dim ?? []).map((d: any) => Number(d.size));
          const isInt = tv?.dtype === 'DT_INT32';
          if (!tv) fail(n, 'constant has no weights in the manifest');
          const count = dims.reduce((a: number, d: number) => a * d, 1);
          const filled = vals.length === 1 && count > 1 ? new Array(count).fill(vals[0]) : vals;
          consts.set(n.name, { shape: dims, dtype: isInt ? 'int32' : 'float32', data: isInt ? Int32Array.from(filled.map(Number)) : Float32Array.from(filled.map(Number)) });
        }
        return;
      }
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape?.dim ?? []).map((d: any) => Number(d.size));
        if (!dims.length) fail(n, 'input has no static shape');
        const shape = dims.map((d: number, i: number) => {
          if (d < 0 && i > 0) fail(n, `input dimension ${i} is unknown; re-convert the model with a fixed input size`);
          return i === 0 ? -1 : d;
        });
        const dt = n.attr?.dtype?.type;
        if (dt && dt !== 'DT_FLOAT') fail(n, `input dtype ${dt} is not supported (float32 only)`);
        alias.set(n.name, b.input(n.name, shape));
        return;
      }
      case 'Identity':
        alias.set(n.name, t(n, 0));
        return;
      case 'NoOp':
        return;
      case 'Conv2D':
      case '_FusedConv2D': {
        checkNhwc(n);
        const x = t(n, 0);
        const k = constOf(n, 1);
        const [kh, kw, cin, cout] = k.shape;
        const w = b.constFloat(`${n.name}/kernel`, [cout, kh, kw, cin], hwioToOhwi({ shape: k.shape, data: k.data as Float32Array }));
        const [, sh, sw] = ints(n.attr?.strides);
        const [, dh = 1, dw = 1] = ints(n.attr?.dilations);
        const p = pad(n);
        const { act, extra } = fusedBias ? fusedAct(n) : { act: 'NONE' as ActivationFn, extra: undefined };
        const y = b.op(n.name, 'CONV_2D', [x, w, biasFor(n, fusedBias, cout)], convOutShape(b.shapeOf(x), kh, kw, sh, sw, dh, dw, p, cout),
          { padding: p, strideH: sh, strideW: sw, dilationHFactor: dh, dilationWFactor: dw, fusedActivationFunction: act }, src(n));
        alias.set(n.name, afterAct(n, y, extra));
        return;
      }
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        checkNhwc(n);
        const x = t(n, 0);
        const k = constOf(n, 1);
        const [kh, kw, cin, mult] = k.shape;
        const w = b.constFloat(`${n.name}/depthwise_kernel`, [1, kh, kw, cin * mult], k.data as Float32Array);
        const [, sh, sw] = ints(n.attr?.strides);
        const [, dh = 1, dw = 1] = ints(n.attr?.dilations);
        const p = pad(n);
        const { act, extra } = fusedBias ? fusedAct(n) : { act: 'NONE' as ActivationFn, extra: undefined };
        const y = b.op(n.name, 'DEPTHWISE_CONV_2D', [x, w, biasFor(n, fusedBias, cin * mult)],
          convOutShape(b.shapeOf(x), kh, kw, sh, sw, dh, dw, p, cin * mult),
          { padding: p, strideH: sh, strideW: sw, dilationHFactor: dh, dilationWFactor: dw, depthMultiplier: mult, fusedActivationFunction: act }, src(n));
        alias.set(n.name, afterAct(n, y, extra));
        return;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        if (n.attr?.transpose_a?.b) fail(n, 'transpose_a is not supported');
        const x = t(n, 0);
        const k = constOf(n, 1);
        const tb = Boolean(n.attr?.transpose_b?.b);
        const [rows, cols] = k.shape;
        const [cin, units] = tb ? [cols, rows] : [rows, cols];
        const data = tb ? (k.data as Float32Array) : transpose2d(k.data as Float32Array, rows, cols);
        const w = b.constFloat(`${n.name}/kernel`, [units, cin], data);
        const { act, extra } = fusedBias ? fusedAct(n) : { act: 'NONE' as ActivationFn, extra: undefined };
        const s = b.shapeOf(x);
        const y = b.op(n.name, 'FULLY_CONNECTED', [x, w, biasFor(n, fusedBias, units)], [s[0], units],
          { fusedActivationFunction: act, keepNumDims: false }, src(n));
        alias.set(n.name, afterAct(n, y, extra));
        return;
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul': {
        const type = n.op === 'Sub' ? 'SUB' : n.op === 'Mul' ? 'MUL' : 'ADD';
        const x = t(n, 0);
        const y = t(n, 1);
        alias.set(n.name, b.op(n.name, type, [x, y], broadcastShape(b.shapeOf(x), b.shapeOf(y)), { fusedActivationFunction: 'NONE' }, src(n)));
        return;
      }
      case 'Relu':
      case 'Relu6':
      case 'Elu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Softmax': {
        const type = { Relu: 'RELU', Relu6: 'RELU6', Elu: 'ELU', Sigmoid: 'LOGISTIC', Tanh: 'TANH', Softmax: 'SOFTMAX' }[n.op]!;
        const x = t(n, 0);
        alias.set(n.name, b.op(n.name, type, [x], b.shapeOf(x), type === 'SOFTMAX' ? { beta: 1 } : {}, src(n)));
        return;
      }
      case 'LeakyRelu': {
        const x = t(n, 0);
        alias.set(n.name, b.op(n.name, 'LEAKY_RELU', [x], b.shapeOf(x), { alpha: Number(n.attr?.alpha?.f ?? 0.2) }, src(n)));
        return;
      }
      case 'MaxPool':
      case 'AvgPool': {
        checkNhwc(n);
        const x = t(n, 0);
        const [, kh, kw] = ints(n.attr?.ksize);
        const [, sh, sw] = ints(n.attr?.strides);
        const p = pad(n);
        const s = b.shapeOf(x);
        alias.set(n.name, b.op(n.name, n.op === 'MaxPool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [x], convOutShape(s, kh, kw, sh, sw, 1, 1, p, s[3]),
          { padding: p, strideH: sh, strideW: sw, filterHeight: kh, filterWidth: kw, fusedActivationFunction: 'NONE' }, src(n)));
        return;
      }
      case 'Pad':
      case 'PadV2': {
        const x = t(n, 0);
        const p = Array.from(constOf(n, 1).data, Number);
        const s = b.shapeOf(x);
        const out = s.map((d, i) => (d < 0 ? d : d + p[2 * i] + p[2 * i + 1]));
        const inputs = [x, b.constInt32(`${n.name}/paddings`, p, [s.length, 2])];
        if (n.op === 'PadV2') inputs.push(t(n, 2));
        alias.set(n.name, b.op(n.name, n.op === 'Pad' ? 'PAD' : 'PADV2', inputs, out, {}, src(n)));
        return;
      }
      case 'Reshape':
      case 'Squeeze': {
        const x = t(n, 0);
        const s = b.shapeOf(x);
        const total = s.slice(1).reduce((a, d) => a * d, 1);
        let target: number[];
        if (n.op === 'Reshape') {
          const raw = Array.from(constOf(n, 1).data, Number);
          // The batch dimension stays dynamic: the first entry becomes -1 and the rest must be static.
          const rest = raw.slice(1);
          const unknown = rest.indexOf(-1);
          if (unknown >= 0) rest[unknown] = total / rest.reduce((a, d) => (d === -1 ? a : a * d), 1);
          target = rest;
        } else {
          const dims = ints(n.attr?.squeeze_dims).map((d) => (d < 0 ? d + s.length : d));
          target = s.slice(1).filter((d, i) => !(dims.length ? dims.includes(i + 1) : d === 1));
        }
        if (target.reduce((a, d) => a * d, 1) !== total) fail(n, `cannot reshape [${s}] to [-1,${target}]`);
        const newShape = [-1, ...target];
        alias.set(n.name, b.op(n.name, 'RESHAPE', [x, b.constInt32(`${n.name}/shape`, newShape)], [s[0], ...target], { newShape }, src(n)));
        return;
      }
      case 'ConcatV2': {
        const nIn = n.input!.filter((i) => !i.startsWith('^')).length;
        const xs = Array.from({ length: nIn - 1 }, (_, i) => t(n, i));
        const s = b.shapeOf(xs[0]);
        let axis = Number(constOf(n, nIn - 1).data[0]);
        if (axis < 0) axis += s.length;
        const out = [...s];
        out[axis] = xs.reduce((a, x) => a + b.shapeOf(x)[axis], 0);
        alias.set(n.name, b.op(n.name, 'CONCATENATION', xs, out, { axis, fusedActivationFunction: 'NONE' }, src(n)));
        return;
      }
      case 'Mean':
      case 'Max': {
        const x = t(n, 0);
        const s = b.shapeOf(x);
        const axes = Array.from(constOf(n, 1).data, Number).map((a) => (a < 0 ? a + s.length : a));
        const keep = Boolean(n.attr?.keep_dims?.b);
        const out = keep ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
        alias.set(n.name, b.op(n.name, n.op === 'Mean' ? 'MEAN' : 'REDUCE_MAX', [x, b.constInt32(`${n.name}/axes`, axes)], out, { keepDims: keep }, src(n)));
        return;
      }
      default:
        fail(n, `op is not supported. Supported graph-model ops: ${SUPPORTED_GRAPH_OPS.join(', ')}. ` +
          'Convert the model to TFLite with the TFLite converter and import the .tflite instead');
    }
  };

  // Visit in dependency order (node lists are usually but not always sorted).
  const visit = (name: string, stack: Set<string>): void => {
    if (done.has(name)) return;
    const n = byName.get(name);
    if (!n) throw new ModelImportError(modelFile, `a node reads "${name}", which does not exist`);
    if (stack.has(name)) throw new ModelImportError(modelFile, `node "${name}" is part of a cycle`);
    stack.add(name);
    for (const i of n.input ?? []) visit(ref(i).replace(/:\d+$/, ''), stack);
    stack.delete(name);
    lower(n);
    done.add(name);
  };
  for (const n of nodes) visit(n.name, new Set());

  // Outputs: the signature's outputs when present, else nodes nobody reads.
  const sigOut = json.signature?.outputs ? Object.values(json.signature.outputs).map((o: any) => ref(String(o.name)).replace(/:\d+$/, '')) : [];
  const read = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => ref(i).replace(/:\d+$/, ''))));
  const outs = sigOut.length ? sigOut : nodes.filter((n) => !read.has(n.name) && !['Const', 'NoOp', 'Placeholder'].includes(n.op)).map((n) => n.name);
  for (const o of outs) {
    const ir = alias.get(o);
    if (!ir) throw new ModelImportError(modelFile, `output "${o}" was never computed`);
    b.graph.outputs.push(ir);
  }
  validateGraph(b.graph);
  return b.graph;
}
