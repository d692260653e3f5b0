/**
 * Keras model config → IR lowering, shared by the .keras (Keras 3), legacy .h5 (Keras 2) and TF.js layers importers
 * (a TF.js layers model.json's modelTopology is a Keras 2 config). Handles both config dialects:
 *  - Keras 2 / tfjs: `inbound_nodes: [[[layer, nodeIndex, tensorIndex, kwargs], …], …]`, InputLayer `batch_input_shape`;
 *  - Keras 3: layers carry `module`/`registered_name`, `inbound_nodes: [{args, kwargs}]` whose args hold
 *    `__keras_tensor__` objects with `keras_history: [layer, nodeIndex, tensorIndex]`, InputLayer `batch_shape`.
 * Weights come from a format-specific `KerasWeightSource` asked by layer path and Keras weight names.
 */
import type { ActivationFn, Graph } from '../ir.ts';
import { validateGraph } from '../ir.ts';
import { GraphBuilder } from '../builder.ts';
import { ModelImportError, asImportError } from '../errors.ts';

export interface KerasWeight {
  shape: number[];
  data: Float32Array;
}

export interface KerasWeightSource {
  /**
   * The weights of one layer. `path` is the chain of nested model names ending with the layer name; `names` are the
   * layer's weights in Keras creation order (e.g. ['kernel', 'bias']), so index-addressed formats can map them.
   * Returns one entry per name (undefined when absent).
   */
  get(path: string[], className: string, names: string[]): (KerasWeight | undefined)[];
}

export interface LowerOptions {
  /** The file being imported, for error messages. */
  file: string;
  /**
   * Whose runtime semantics the model was trained with. tfjs's UpSampling2D(bilinear) resizes without half-pixel
   * centres; Keras (TF2) uses half-pixel centres.
   */
  flavor: 'keras' | 'tfjs';
  metadata?: Record<string, string>;
}

type Json = any; // Keras configs are untyped JSON; every field read below is checked where it matters.

interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

interface LayerSpec {
  className: string;
  name: string;
  config: Json;
  /** A subclassed/custom layer: no config, or Keras 3 registered under a package other than keras. */
  custom: boolean;
  /** One entry per call of the layer inside this model; each call lists its input tensors. */
  calls: TensorRef[][];
}

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Dense', 'BatchNormalization',
  'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'Softmax', 'Activation', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Add', 'Subtract', 'Multiply', 'Concatenate', 'ZeroPadding2D',
  'Reshape', 'Flatten', 'UpSampling2D', 'Rescaling', 'Normalization', 'Dropout', 'SpatialDropout2D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'Functional', 'Model', 'Sequential',
];

const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'swish', 'silu', 'hard_swish',
  'hard_silu', 'elu'];

/** Aliases Keras uses for the same layer class. */
const CLASS_ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D', SeparableConvolution2D: 'SeparableConv2D', Convolution2DTranspose: 'Conv2DTranspose',
  Deconvolution2D: 'Conv2DTranspose', MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D',
  AveragePool2D: 'AveragePooling2D', GlobalAvgPool2D: 'GlobalAveragePooling2D', GlobalMaxPool2D: 'GlobalMaxPooling2D',
};

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

class LoweringError extends Error {}

export function lowerKerasModel(modelConfig: Json, weights: KerasWeightSource, opts: LowerOptions): Graph {
  if (!modelConfig || typeof modelConfig !== 'object' || typeof modelConfig.class_name !== 'string') {
    throw new ModelImportError(opts.file, `the model config has no class_name; this is not a Keras model config`);
  }
  const name = String(modelConfig.config?.name ?? modelConfig.name ?? 'model');
  const b = new GraphBuilder(name, { ...opts.metadata });
  const ctx = new Lowering(b, weights, opts);
  try {
    const outputs = ctx.lowerModel(modelConfig, undefined, []);
    b.graph.outputs.push(...outputs);
    validateGraph(b.graph);
  } catch (e) {
    throw asImportError(opts.file, e, 'invalid model config');
  }
  return b.graph;
}

function toList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

function pair(v: Json, what: string): [number, number] {
  const l = toList(v).map(Number);
  if (l.length === 1) return [l[0], l[0]];
  if (l.length !== 2 || l.some((x) => !Number.isInteger(x))) throw new LoweringError(`${what} must be an int or a pair, got ${JSON.stringify(v)}`);
  return [l[0], l[1]];
}

/** Keras 3 serializes some values as objects ({class_name, config}); activations may be plain strings or such objects. */
function activationName(v: Json): string {
  if (v == null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    if (typeof v.config === 'string') return v.config;
    if (typeof v.config?.name === 'string') return v.config.name;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return String(v);
}

/** Maps Keras-3 (`batch_shape`) and Keras-2 (`batch_input_shape`) input shapes to IR shapes (batch -1, rest static). */
function inputShape(cfg: Json, layer: string): number[] | undefined {
  const s = cfg.batch_shape ?? cfg.batch_input_shape ?? (cfg.input_shape ? [null, ...cfg.input_shape] : undefined);
  if (!s) return undefined;
  return s.map((d: number | null, i: number) => {
    if (d == null) {
      if (i === 0) return -1;
      throw new LoweringError(`Input "${layer}" has an unknown dimension ${i} (shape ${JSON.stringify(s)}); ` +
        'Edgewise needs static input sizes: re-export the model with a fixed input shape');
    }
    return i === 0 ? -1 : d;
  });
}

function parseKeras2Call(node: Json): TensorRef[] {
  return toList(node).map((ref: Json) => ({ layer: String(ref[0]), node: Number(ref[1] ?? 0), tensor: Number(ref[2] ?? 0) }));
}

/** Keras 3: collect every `__keras_tensor__` in args (depth-first, in order). */
function parseKeras3Call(node: Json): TensorRef[] {
  const refs: TensorRef[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (v.class_name === '__keras_tensor__') {
        const h = v.config.keras_history;
        refs.push({ layer: String(h[0]), node: Number(h[1]), tensor: Number(h[2]) });
      }
    }
  };
  walk(node.args);
  return refs;
}

function parseLayer(l: Json): LayerSpec {
  const className = CLASS_ALIASES[l.class_name] ?? String(l.class_name);
  const config = l.config ?? {};
  const name = String(l.name ?? config.name ?? className);
  const calls = (l.inbound_nodes ?? []).map((n: Json) =>
    n && !Array.isArray(n) && typeof n === 'object' && 'args' in n ? parseKeras3Call(n) : parseKeras2Call(n));
  const module = typeof l.module === 'string' ? l.module : 'keras';
  const custom = l.config == null || (typeof l.registered_name === 'string' && l.registered_name.includes('>')) ||
    !(module === 'keras' || module.startsWith('keras.'));
  return { className, name, config, custom, calls };
}

/** `input_layers`/`output_layers`: [[name, node, tensor], …] or (Keras 3, single tensor) [name, node, tensor]. */
function parseEndpoints(v: Json): TensorRef[] {
  if (!Array.isArray(v)) return [];
  const list = typeof v[0] === 'string' ? [v] : v;
  return list.map((r: Json) => ({ layer: String(r[0]), node: Number(r[1] ?? 0), tensor: Number(r[2] ?? 0) }));
}

const key = (r: TensorRef): string => `${r.layer}:${r.node}:${r.tensor}`;

class Lowering {
  constructor(private b: GraphBuilder, private weights: KerasWeightSource, private opts: LowerOptions) {}

  /**
   * Lowers a Functional/Sequential config. `inputs` are the tensors it is applied to (undefined for the top model,
   * which declares graph inputs). Returns the output tensor names.
   */
  lowerModel(model: Json, inputs: string[] | undefined, path: string[]): string[] {
    const cls = String(model.class_name);
    const cfg = model.config ?? {};
    if (cls === 'Sequential') return this.lowerSequential(cfg, inputs, path);
    if (cls !== 'Functional' && cls !== 'Model') {
      throw new ModelImportError(this.opts.file, `the top-level object is a "${cls}", not a Keras Functional or Sequential model`);
    }
    const layers: LayerSpec[] = (cfg.layers ?? []).map(parseLayer);
    const byName = new Map(layers.map((l) => [l.name, l]));
    const produced = new Map<string, string>();
    const inputRefs = parseEndpoints(cfg.input_layers);
    inputRefs.forEach((ref, i) => {
      const layer = byName.get(ref.layer);
      if (!layer) throw new ModelImportError(this.opts.file, `input layer "${ref.layer}" is not in the model's layers`);
      if (inputs) {
        if (!inputs[i]) throw new ModelImportError(this.opts.file, `nested model "${path.join('/')}" expects ${inputRefs.length} inputs`);
        produced.set(key(ref), inputs[i]);
      } else {
        produced.set(key(ref), this.declareInput(layer));
      }
    });
    // tfjs counts a nested model's internal call as node 0, so its first real call is referenced as node 1:
    // a layer called exactly once resolves any node index to that call.
    const resolve = (r: TensorRef): string | undefined => {
      const exact = produced.get(key(r));
      if (exact) return exact;
      const layer = byName.get(r.layer);
      return layer && layer.calls.length <= 1 ? produced.get(key({ ...r, node: 0 })) : undefined;
    };
    // Lower calls whose inputs exist until nothing changes (layer lists are not always topologically sorted).
    const pending = layers.flatMap((l) => l.calls.map((refs, node) => ({ l, refs, node })))
      .filter(({ l }) => l.className !== 'InputLayer');
    while (pending.length) {
      const i = pending.findIndex(({ refs }) => refs.every((r) => resolve(r) !== undefined));
      if (i < 0) {
        const stuck = pending[0];
        const missing = stuck.refs.find((r) => resolve(r) === undefined)!;
        throw new ModelImportError(this.opts.file, `layer "${stuck.l.name}" reads "${missing.layer}" (node ${missing.node}) which is never produced`);
      }
      const { l, refs, node } = pending.splice(i, 1)[0];
      const outs = this.lowerLayerWithContext(l, refs.map((r) => resolve(r)!), path);
      outs.forEach((t, ti) => produced.set(key({ layer: l.name, node, tensor: ti }), t));
    }
    return parseEndpoints(cfg.output_layers).map((r) => {
      const t = resolve(r);
      if (!t) throw new ModelImportError(this.opts.file, `model output "${r.layer}" is never produced`);
      return t;
    });
  }

  private lowerSequential(cfg: Json, inputs: string[] | undefined, path: string[]): string[] {
    const raw: Json[] = Array.isArray(cfg) ? cfg : cfg.layers ?? [];
    const layers = raw.map(parseLayer);
    let x: string;
    let rest = layers;
    if (inputs) {
      x = inputs[0];
      if (layers[0]?.className === 'InputLayer') rest = layers.slice(1);
    } else if (layers[0]?.className === 'InputLayer') {
      x = this.declareInput(layers[0]);
      rest = layers.slice(1);
    } else {
      const first = layers[0];
      const shape = first && inputShape(first.config, first.name);
      const built = cfg.build_input_shape;
      if (!shape && !built) {
        throw new ModelImportError(this.opts.file, `the Sequential model declares no input shape; re-save it after building it`);
      }
      x = this.b.input(`${cfg.name ?? 'input'}_input`, shape ?? inputShape({ batch_shape: built }, 'input')!);
    }
    for (const l of rest) x = this.lowerLayerWithContext(l, [x], path)[0];
    return [x];
  }

  private declareInput(layer: LayerSpec): string {
    const shape = inputShape(layer.config, layer.name);
    if (!shape) throw new ModelImportError(this.opts.file, `input layer "${layer.name}" has no shape`);
    const dtype = layer.config.dtype;
    if (typeof dtype === 'string' && dtype !== 'float32') {
      throw new ModelImportError(this.opts.file, `input "${layer.name}" has dtype ${dtype}; only float32 model inputs are supported`);
    }
    return this.b.input(layer.name, shape);
  }

  private lowerLayerWithContext(l: LayerSpec, xs: string[], path: string[]): string[] {
    try {
      return this.lowerLayer(l, xs, path);
    } catch (e) {
      if (e instanceof ModelImportError) throw e;
      // LoweringErrors explain the problem; anything else means a malformed config field tripped the code.
      const why = e instanceof LoweringError ? e.message : `invalid layer config (${e instanceof Error ? e.message : String(e)})`;
      throw new ModelImportError(this.opts.file, `layer "${[...path, l.name].join('/')}" (${l.className}): ${why}`);
    }
  }

  private w(path: string[], l: LayerSpec, names: string[], required: string[]): Record<string, { shape: number[]; data: Float32Array }> {
    const got = this.weights.get([...path, l.name], l.className, names);
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    names.forEach((n, i) => {
      const g = got[i];
      if (g) out[n] = g;
      else if (required.includes(n)) throw new LoweringError(`weight "${n}" is missing from the weights file`);
    });
    return out;
  }

  private lowerLayer(l: LayerSpec, xs: string[], path: string[]): string[] {
    const c = l.config;
    const b = this.b;
    const opName = [...path, l.name].join('/');
    const src = { layer: opName, className: l.className };
    const x = xs[0];
    const inShape = () => b.shapeOf(x);
    if (c.data_format && c.data_format !== 'channels_last') {
      throw new LoweringError(`data_format "${c.data_format}" is not supported (Edgewise works in NHWC / channels_last)`);
    }
    switch (l.className) {
      case 'Functional':
      case 'Model':
      case 'Sequential':
        return this.lowerModel({ class_name: l.className, config: c }, xs, [...path, l.name]);
      case 'Conv2D': {
        if ((c.groups ?? 1) !== 1) throw new LoweringError(`groups=${c.groups} is not supported`);
        const useBias = c.use_bias !== false;
        const wt = this.w(path, l, useBias ? ['kernel', 'bias'] : ['kernel'], ['kernel']);
        const [kh, kw, cin, cout] = wt.kernel.shape;
        this.expectChannels(inShape(), cin, 'kernel');
        const w = b.constFloat(`${opName}/kernel`, [cout, kh, kw, cin], hwioToOhwi(wt.kernel));
        const bias = this.bias(opName, cout, wt.bias);
        const [sh, sw] = pair(c.strides ?? 1, 'strides');
        const [dh, dw] = pair(c.dilation_rate ?? 1, 'dilation_rate');
        const padding = this.padding(c.padding);
        const out = convOutShape(inShape(), kh, kw, sh, sw, dh, dw, padding, cout);
        const y = b.op(opName, 'CONV_2D', [x, w, bias], out,
          { padding, strideH: sh, strideW: sw, dilationHFactor: dh, dilationWFactor: dw, fusedActivationFunction: 'NONE' }, src);
        return [this.activation(y, c.activation, opName, src)];
      }
      case 'DepthwiseConv2D': {
        const useBias = c.use_bias !== false;
        const wt = this.w(path, l, useBias ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel'], ['depthwise_kernel']);
        return [this.depthwise(opName, src, x, wt.depthwise_kernel, wt.bias, c, c.activation)];
      }
      case 'SeparableConv2D': {
        const useBias = c.use_bias !== false;
        const wt = this.w(path, l, useBias ? ['depthwise_kernel', 'pointwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel'],
          ['depthwise_kernel', 'pointwise_kernel']);
        const d = this.depthwise(`${opName}/depthwise`, src, x, wt.depthwise_kernel, undefined, c, 'linear');
        const [, , cin, cout] = wt.pointwise_kernel.shape;
        const w = b.constFloat(`${opName}/pointwise_kernel`, [cout, 1, 1, cin], hwioToOhwi(wt.pointwise_kernel));
        const bias = this.bias(opName, cout, wt.bias);
        const s = b.shapeOf(d);
        const y = b.op(opName, 'CONV_2D', [d, w, bias], [s[0], s[1], s[2], cout],
          { padding: 'VALID', strideH: 1, strideW: 1, dilationHFactor: 1, dilationWFactor: 1, fusedActivationFunction: 'NONE' }, src);
        return [this.activation(y, c.activation, opName, src)];
      }
      case 'Conv2DTranspose': {
        if (c.output_padding != null) throw new LoweringError('output_padding is not supported');
        const [dh, dw] = pair(c.dilation_rate ?? 1, 'dilation_rate');
        if (dh !== 1 || dw !== 1) throw new LoweringError('dilation_rate other than 1 is not supported');
        const useBias = c.use_bias !== false;
        const wt = this.w(path, l, useBias ? ['kernel', 'bias'] : ['kernel'], ['kernel']);
        // Keras stores transpose-conv kernels as [kh, kw, out, in]; TFLite wants [out, kh, kw, in].
        const [kh, kw, cout, cin] = wt.kernel.shape;
        this.expectChannels(inShape(), cin, 'kernel');
        const w = b.constFloat(`${opName}/kernel`, [cout, kh, kw, cin], hwoiToOhwi(wt.kernel));
        const bias = this.bias(opName, cout, wt.bias);
        const [sh, sw] = pair(c.strides ?? 1, 'strides');
        const padding = this.padding(c.padding);
        const [n, h, wd] = inShape();
        const oh = padding === 'SAME' ? h * sh : (h - 1) * sh + kh;
        const ow = padding === 'SAME' ? wd * sw : (wd - 1) * sw + kw;
        // The output-shape operand carries batch 1; the executor and TFLite runtime use the real batch.
        const shapeT = b.constInt32(`${opName}/output_shape`, [1, oh, ow, cout]);
        const y = b.op(opName, 'TRANSPOSE_CONV', [shapeT, w, x, bias], [n, oh, ow, cout],
          { padding, strideH: sh, strideW: sw, fusedActivationFunction: 'NONE' }, src);
        return [this.activation(y, c.activation, opName, src, false)];
      }
      case 'Dense': {
        const useBias = c.use_bias !== false;
        const wt = this.w(path, l, useBias ? ['kernel', 'bias'] : ['kernel'], ['kernel']);
        const [cin, units] = wt.kernel.shape;
        const s = inShape();
        this.expectChannels(s, cin, 'kernel');
        const w = b.constFloat(`${opName}/kernel`, [units, cin], transpose2d(wt.kernel.data, cin, units));
        const bias = this.bias(opName, units, wt.bias);
        const y = b.op(opName, 'FULLY_CONNECTED', [x, w, bias], [...s.slice(0, -1), units],
          { fusedActivationFunction: 'NONE', keepNumDims: s.length > 2 }, src);
        return [this.activation(y, c.activation, opName, src)];
      }
      case 'BatchNormalization': {
        const s = inShape();
        const axis = toList(c.axis ?? -1).map(Number);
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== s.length - 1)) {
          throw new LoweringError(`axis ${JSON.stringify(c.axis)} is not supported (only the last, channel axis)`);
        }
        const scale = c.scale !== false;
        const center = c.center !== false;
        const names = [...(scale ? ['gamma'] : []), ...(center ? ['beta'] : []), 'moving_mean', 'moving_variance'];
        const wt = this.w(path, l, names, names);
        const ch = s[s.length - 1];
        this.expectChannels(s, wt.moving_mean.shape[0], 'moving_mean');
        const gamma = b.constFloat(`${opName}/gamma`, [ch], wt.gamma?.data ?? new Float32Array(ch).fill(1));
        const beta = b.constFloat(`${opName}/beta`, [ch], wt.beta?.data ?? new Float32Array(ch));
        const mean = b.constFloat(`${opName}/moving_mean`, [ch], wt.moving_mean.data);
        const variance = b.constFloat(`${opName}/moving_variance`, [ch], wt.moving_variance.data);
        return [b.op(opName, 'BATCH_NORM', [x, gamma, beta, mean, variance], s, { epsilon: Number(c.epsilon ?? 1e-3) }, src)];
      }
      case 'ReLU': {
        const maxValue = c.max_value == null ? undefined : Number(c.max_value);
        const slope = Number(c.negative_slope ?? 0);
        const threshold = Number(c.threshold ?? 0);
        if (threshold !== 0) throw new LoweringError(`threshold=${threshold} is not supported`);
        if (slope !== 0) {
          if (maxValue !== undefined) throw new LoweringError('negative_slope together with max_value is not supported');
          return [b.op(opName, 'LEAKY_RELU', [x], inShape(), { alpha: slope }, src)];
        }
        if (maxValue === undefined) return [b.op(opName, 'RELU', [x], inShape(), {}, src)];
        if (maxValue === 6) return [b.op(opName, 'RELU6', [x], inShape(), {}, src)];
        const r = b.op(`${opName}/relu`, 'RELU', [x], inShape(), {}, src);
        const m = b.constFloat(`${opName}/max_value`, [], Float32Array.of(maxValue));
        return [b.op(opName, 'MINIMUM', [r, m], inShape(), {}, src)];
      }
      case 'LeakyReLU':
        return [b.op(opName, 'LEAKY_RELU', [x], inShape(), { alpha: Number(c.negative_slope ?? c.alpha ?? 0.3) }, src)];
      case 'PReLU': {
        const wt = this.w(path, l, ['alpha'], ['alpha']);
        const alpha = b.constFloat(`${opName}/alpha`, wt.alpha.shape, wt.alpha.data);
        return [b.op(opName, 'PRELU', [x, alpha], inShape(), {}, src)];
      }
      case 'ELU': {
        if (Number(c.alpha ?? 1) !== 1) throw new LoweringError(`alpha=${c.alpha} is not supported (TFLite ELU has alpha 1)`);
        return [b.op(opName, 'ELU', [x], inShape(), {}, src)];
      }
      case 'Softmax': {
        const axis = toList(c.axis ?? -1).map(Number);
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== inShape().length - 1)) {
          throw new LoweringError('softmax over an axis other than the last is not supported');
        }
        return [b.op(opName, 'SOFTMAX', [x], inShape(), { beta: 1 }, src)];
      }
      case 'Activation':
        return [this.activation(x, c.activation, opName, src, false, true)];
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const [ph, pw] = pair(c.pool_size ?? 2, 'pool_size');
        const [sh, sw] = pair(c.strides ?? c.pool_size ?? 2, 'strides');
        const padding = this.padding(c.padding);
        const s = inShape();
        return [b.op(opName, l.className === 'MaxPooling2D' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [x],
          convOutShape(s, ph, pw, sh, sw, 1, 1, padding, s[3]),
          { padding, strideH: sh, strideW: sw, filterHeight: ph, filterWidth: pw, fusedActivationFunction: 'NONE' }, src)];
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const s = inShape();
        const keep = c.keepdims === true;
        const axes = b.constInt32(`${opName}/axes`, [1, 2]);
        return [b.op(opName, l.className === 'GlobalAveragePooling2D' ? 'MEAN' : 'REDUCE_MAX', [x, axes],
          keep ? [s[0], 1, 1, s[3]] : [s[0], s[3]], { keepDims: keep }, src)];
      }
      case 'Add':
      case 'Subtract':
      case 'Multiply': {
        const type = { Add: 'ADD', Subtract: 'SUB', Multiply: 'MUL' }[l.className]!;
        if (xs.length < 2 || (type === 'SUB' && xs.length !== 2)) throw new LoweringError(`needs ${type === 'SUB' ? 'exactly' : 'at least'} 2 inputs, got ${xs.length}`);
        let y = xs[0];
        for (let i = 1; i < xs.length; i++) {
          const shape = broadcastShape(b.shapeOf(y), b.shapeOf(xs[i]));
          y = b.op(i === xs.length - 1 ? opName : `${opName}/${i}`, type, [y, xs[i]], shape, { fusedActivationFunction: 'NONE' }, src);
        }
        return [y];
      }
      case 'Concatenate': {
        const s = inShape();
        const axis = Number(c.axis ?? -1) < 0 ? s.length + Number(c.axis ?? -1) : Number(c.axis);
        const out = [...s];
        out[axis] = xs.reduce((n, t) => n + b.shapeOf(t)[axis], 0);
        return [b.op(opName, 'CONCATENATION', xs, out, { axis, fusedActivationFunction: 'NONE' }, src)];
      }
      case 'ZeroPadding2D': {
        const p = c.padding ?? 1;
        let t: number, bo: number, le: number, r: number;
        if (typeof p === 'number') [t, bo, le, r] = [p, p, p, p];
        else if (typeof p[0] === 'number') [t, bo, le, r] = [p[0], p[0], p[1], p[1]];
        else [[t, bo], [le, r]] = p;
        const s = inShape();
        const pads = b.constInt32(`${opName}/paddings`, [0, 0, t, bo, le, r, 0, 0], [4, 2]);
        return [b.op(opName, 'PAD', [x, pads], [s[0], s[1] + t + bo, s[2] + le + r, s[3]], {}, src)];
      }
      case 'Reshape':
      case 'Flatten': {
        const s = inShape();
        const n = s.slice(1).reduce((a, d) => a * d, 1);
        let target: number[] = l.className === 'Flatten' ? [n] : (c.target_shape as number[]).map(Number);
        const unknown = target.indexOf(-1);
        if (unknown >= 0) target[unknown] = n / target.reduce((a, d) => (d === -1 ? a : a * d), 1);
        if (target.reduce((a, d) => a * d, 1) !== n) {
          throw new LoweringError(`cannot reshape [${s.slice(1)}] to [${target}]`);
        }
        const newShape = [-1, ...target];
        const shapeT = b.constInt32(`${opName}/shape`, newShape);
        return [b.op(opName, 'RESHAPE', [x, shapeT], [s[0], ...target], { newShape }, src)];
      }
      case 'UpSampling2D': {
        const [fh, fw] = pair(c.size ?? 2, 'size');
        const s = inShape();
        const interp = String(c.interpolation ?? 'nearest');
        if (interp !== 'nearest' && interp !== 'bilinear') throw new LoweringError(`interpolation "${interp}" is not supported (nearest, bilinear)`);
        const size = b.constInt32(`${opName}/size`, [s[1] * fh, s[2] * fw]);
        const half = this.opts.flavor === 'keras';
        return [b.op(opName, interp === 'nearest' ? 'RESIZE_NEAREST_NEIGHBOR' : 'RESIZE_BILINEAR', [x, size],
          [s[0], s[1] * fh, s[2] * fw, s[3]], { alignCorners: false, halfPixelCenters: half }, src)];
      }
      case 'Rescaling': {
        const s = inShape();
        const scale = toList(c.scale ?? 1).map(Number);
        const offset = toList(c.offset ?? 0).map(Number);
        const sc = b.constFloat(`${opName}/scale`, scale.length === 1 ? [] : [scale.length], Float32Array.from(scale));
        const y = b.op(`${opName}/mul`, 'MUL', [x, sc], s, { fusedActivationFunction: 'NONE' }, src);
        if (offset.every((o) => o === 0)) return [y];
        const of = b.constFloat(`${opName}/offset`, offset.length === 1 ? [] : [offset.length], Float32Array.from(offset));
        return [b.op(opName, 'ADD', [y, of], s, { fusedActivationFunction: 'NONE' }, src)];
      }
      case 'Normalization': {
        if (c.invert) throw new LoweringError('invert=true is not supported');
        const s = inShape();
        const axis = toList(c.axis ?? -1).map(Number);
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== s.length - 1)) throw new LoweringError('only axis=-1 is supported');
        let mean: Float32Array, variance: Float32Array;
        if (c.mean != null && c.variance != null) {
          mean = Float32Array.from(toList(c.mean).flat(4).map(Number));
          variance = Float32Array.from(toList(c.variance).flat(4).map(Number));
        } else {
          const wt = this.w(path, l, ['mean', 'variance', 'count'], ['mean', 'variance']);
          mean = wt.mean.data;
          variance = wt.variance.data;
        }
        // (x - mean) / max(sqrt(var), eps)  ==  x * a + b  with a = 1/std, b = -mean/std: one MUL + ADD.
        const ch = mean.length;
        const a = new Float32Array(ch);
        const bb = new Float32Array(ch);
        for (let i = 0; i < ch; i++) {
          const std = Math.max(Math.sqrt(variance[i]), 1e-7);
          a[i] = 1 / std;
          bb[i] = -mean[i] / std;
        }
        const shape = ch === 1 ? [] : [ch];
        const y = b.op(`${opName}/mul`, 'MUL', [x, b.constFloat(`${opName}/inv_std`, shape, a)], s, { fusedActivationFunction: 'NONE' }, src);
        return [b.op(opName, 'ADD', [y, b.constFloat(`${opName}/offset`, shape, bb)], s, { fusedActivationFunction: 'NONE' }, src)];
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        return [b.op(opName, 'DROPOUT', [x], inShape(), {}, src)];
      default:
        if (l.custom) {
          throw new LoweringError('has no config Edgewise can read (a subclassed or custom layer). Export a Functional or ' +
            'Sequential Keras model built from standard layers, or convert it to TFLite with model.export() / the TFLite converter and import the .tflite');
        }
        throw new LoweringError(`is not supported. Supported layers: ${SUPPORTED_LAYERS.join(', ')}. ` +
          'Custom layers: rebuild the model from standard layers, or convert it to TFLite and import the .tflite');
    }
  }

  private depthwise(opName: string, src: { layer: string; className: string }, x: string, kernel: KerasWeight,
    biasW: KerasWeight | undefined, c: Json, activation: Json): string {
    const b = this.b;
    // Keras [kh, kw, C, M] flattened row-major is exactly TFLite's [1, kh, kw, C·M] (channel c·M + m).
    const [kh, kw, cin, mult] = kernel.shape;
    this.expectChannels(b.shapeOf(x), cin, 'depthwise_kernel');
    const w = b.constFloat(`${opName}/depthwise_kernel`, [1, kh, kw, cin * mult], kernel.data);
    const bias = this.bias(opName, cin * mult, biasW);
    const [sh, sw] = pair(c.strides ?? 1, 'strides');
    const [dh, dw] = pair(c.dilation_rate ?? 1, 'dilation_rate');
    const padding = this.padding(c.padding);
    const out = convOutShape(b.shapeOf(x), kh, kw, sh, sw, dh, dw, padding, cin * mult);
    const y = b.op(opName, 'DEPTHWISE_CONV_2D', [x, w, bias], out,
      { padding, strideH: sh, strideW: sw, dilationHFactor: dh, dilationWFactor: dw, depthMultiplier: mult, fusedActivationFunction: 'NONE' }, src);
    return this.activation(y, activation, opName, src);
  }

  /** TFLite conv/FC kernels want a bias operand; layers built with use_bias=False get zeros. */
  private bias(opName: string, n: number, w: KerasWeight | undefined): string {
    if (w && w.data.length !== n) throw new LoweringError(`bias has ${w.data.length} values, expected ${n}`);
    return this.b.constFloat(`${opName}/bias`, [n], w?.data ?? new Float32Array(n));
  }

  private padding(p: Json): 'SAME' | 'VALID' {
    const s = String(p ?? 'valid').toLowerCase();
    if (s !== 'same' && s !== 'valid') throw new LoweringError(`padding "${p}" is not supported (same, valid)`);
    return s === 'same' ? 'SAME' : 'VALID';
  }

  private expectChannels(shape: number[], n: number, what: string): void {
    if (shape[shape.length - 1] !== n) {
      throw new LoweringError(`${what} expects ${n} input channels but the input has shape [${shape.join(',')}]`);
    }
  }

  /**
   * Applies a Keras activation after `y`. Fusable ones (relu, relu6) go into the producing op's
   * fusedActivationFunction; tanh is never fused because TFLite conv/FC kernels ignore a fused TANH.
   * Returns the final tensor name; `standalone` means this is an Activation layer (linear → IDENTITY).
   */
  private activation(y: string, act: Json, opName: string, src: { layer: string; className: string }, fusable = true,
    standalone = false): string {
    const name = activationName(act);
    const b = this.b;
    const s = b.shapeOf(y);
    const fused: Record<string, ActivationFn> = { relu: 'RELU', relu6: 'RELU6' };
    const producer = b.graph.ops[b.graph.ops.length - 1];
    if (!standalone && fusable && fused[name] && producer?.outputs[0] === y) {
      producer.attrs.fusedActivationFunction = fused[name];
      return y;
    }
    const actName = standalone ? opName : `${opName}/${name}`;
    switch (name) {
      case 'linear':
        return standalone ? b.op(actName, 'IDENTITY', [y], s, {}, src) : y;
      case 'relu': return b.op(actName, 'RELU', [y], s, {}, src);
      case 'relu6': return b.op(actName, 'RELU6', [y], s, {}, src);
      case 'sigmoid': return b.op(actName, 'LOGISTIC', [y], s, {}, src);
      case 'tanh': return b.op(actName, 'TANH', [y], s, {}, src);
      case 'elu': return b.op(actName, 'ELU', [y], s, {}, src);
      case 'softmax': return b.op(actName, 'SOFTMAX', [y], s, { beta: 1 }, src);
      case 'hard_swish':
      case 'hard_silu':
        return b.op(actName, 'HARD_SWISH', [y], s, {}, src);
      case 'swish':
      case 'silu': {
        const sig = b.op(`${actName}/sigmoid`, 'LOGISTIC', [y], s, {}, src);
        return b.op(actName, 'MUL', [y, sig], s, { fusedActivationFunction: 'NONE' }, src);
      }
      default:
        throw new LoweringError(`activation "${name}" is not supported (${SUPPORTED_ACTIVATIONS.join(', ')})`);
    }
  }
}

/** Keras transpose-conv kernel [kh, kw, O, I] → TFLite TRANSPOSE_CONV [O, kh, kw, I]. */
export function hwoiToOhwi(k: KerasWeight): Float32Array {
  const [kh, kw, co, ci] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let o = 0; o < co; o++) {
        const base = ((h * kw + w) * co + o) * ci;
        for (let i = 0; i < ci; i++) out[((o * kh + h) * kw + w) * ci + i] = k.data[base + i];
      }
  return out;
}

/** [kh, kw, I, O] (Keras/TF HWIO) → [O, kh, kw, I] (TFLite OHWI). */
export function hwioToOhwi(k: KerasWeight): Float32Array {
  const [kh, kw, ci, co] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < ci; i++) {
        const base = ((h * kw + w) * ci + i) * co;
        for (let o = 0; o < co; o++) out[((o * kh + h) * kw + w) * ci + i] = k.data[base + o];
      }
  return out;
}

export function transpose2d(d: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(d.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = d[r * cols + c];
  return out;
}

export function convOutShape(s: number[], kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
  padding: 'SAME' | 'VALID', cout: number): number[] {
  if (s.length !== 4) throw new LoweringError(`expects a 4-D NHWC input, got shape [${s.join(',')}]`);
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  const oh = padding === 'SAME' ? Math.ceil(s[1] / sh) : Math.floor((s[1] - ekh) / sh) + 1;
  const ow = padding === 'SAME' ? Math.ceil(s[2] / sw) : Math.floor((s[2] - ekw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new LoweringError(`a ${kh}x${kw} window does not fit the input [${s.join(',')}]`);
  return [s[0], oh, ow, cout];
}

export function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1 && x !== -1 && y !== -1) {
      throw new LoweringError(`shapes [${a}] and [${b}] do not broadcast`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}
