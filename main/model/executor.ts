/**
 * Runs an IR Graph in float on tfjs ops (whatever backend initCompute selected): every op type importers produce,
 * including the pseudo-ops (BATCH_NORM, DROPOUT, IDENTITY), so graphs can be checked before and after passes.
 * - Any tensor can be requested as an output (calibration and per-layer analysis need intermediates).
 * - Batches: graph inputs have batch -1; a Float32Array input's batch is inferred from its length.
 * - TFLite weight layouts are converted to tfjs layouts once per constant (cached, kept) — except weights turned
 *   into trainable tf.Variables, which are converted inside the forward pass so gradients reach them.
 * - Quantized or float16 constants (e.g. from an imported .tflite) are dequantized to float32.
 * The caller owns returned tensors; `dispose()` frees the cache and variables.
 */
import * as tf from '@tensorflow/tfjs';
import type { Graph, Op, Tensor as IrTensor } from './ir.ts';
import { fromFloat16 } from './float16.ts';

export type ExecutorInput = Float32Array | Int32Array | tf.Tensor;

const SUPPORTED_OPS = [
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'TRANSPOSE_CONV', 'FULLY_CONNECTED', 'BATCH_NORM', 'DROPOUT', 'IDENTITY', 'DEQUANTIZE',
  'QUANTIZE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'LEAKY_RELU', 'PRELU', 'ELU', 'LOGISTIC', 'TANH', 'HARD_SWISH', 'SOFTMAX',
  'LOG_SOFTMAX', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'MEAN', 'REDUCE_MAX', 'SUM', 'ADD', 'SUB', 'MUL', 'DIV', 'MINIMUM',
  'MAXIMUM', 'CONCATENATION', 'PAD', 'PADV2', 'RESHAPE', 'TRANSPOSE', 'RESIZE_NEAREST_NEIGHBOR', 'RESIZE_BILINEAR',
];

export class Executor {
  private constCache = new Map<string, tf.Tensor>();
  private variables = new Map<string, tf.Variable>();
  /** Index of the last op reading each tensor, to free intermediates early during inference. */
  private lastUse = new Map<string, number>();

  constructor(readonly graph: Graph) {
    graph.ops.forEach((op, i) => {
      if (!SUPPORTED_OPS.includes(op.type)) {
        throw new Error(`Op "${op.name}" (${op.type}) cannot be executed in float by Edgewise; supported: ${SUPPORTED_OPS.join(', ')}`);
      }
      for (const t of op.inputs) if (t) this.lastUse.set(t, i);
    });
  }

  /**
   * Runs the graph; returns the requested tensors (default: the graph outputs) by name. Intermediates are freed.
   */
  run(inputs: Record<string, ExecutorInput>, opts: { outputs?: string[] } = {}): Record<string, tf.Tensor> {
    const wanted = opts.outputs ?? this.graph.outputs;
    const results = tf.tidy(() => {
      const feeds: Record<string, tf.Tensor> = {};
      for (const name of this.graph.inputs) feeds[name] = this.toTensor(name, inputs[name]);
      return this.forward(feeds, wanted, true);
    });
    return Object.fromEntries(wanted.map((n, i) => [n, results[i]]));
  }

  /** Convenience: runs and downloads the outputs as plain arrays (disposes everything). */
  async runData(inputs: Record<string, ExecutorInput>, opts: { outputs?: string[] } = {}):
    Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const out = this.run(inputs, opts);
    const res: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(out)) {
      res[k] = { shape: t.shape, data: Float32Array.from(await t.data()) };
      t.dispose();
    }
    return res;
  }

  /**
   * The forward pass on tensors, for use inside tf.tidy / tf.variableGrads / optimizer.minimize.
   * With release=false (the default) intermediates are left to the surrounding scope, as gradients need them.
   */
  forward(feeds: Record<string, tf.Tensor>, outputs: string[] = this.graph.outputs, release = false): tf.Tensor[] {
    const values = new Map<string, tf.Tensor>(Object.entries(feeds));
    const keep = new Set([...outputs, ...this.graph.inputs]);
    const stopAt = Math.max(-1, ...outputs.map((o) => this.graph.ops.findIndex((op) => op.outputs.includes(o))));
    for (let i = 0; i <= stopAt; i++) {
      const op = this.graph.ops[i];
      let outs: tf.Tensor[];
      try {
        outs = this.execOp(op, (n) => this.value(n, values));
      } catch (e) {
        throw new Error(`Executing op "${op.name}" (${op.type}) failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      op.outputs.forEach((name, j) => values.set(name, outs[j]));
      if (release) {
        for (const t of op.inputs) {
          if (t && this.lastUse.get(t) === i && !keep.has(t) && !this.isConst(t)) {
            values.get(t)?.dispose();
            values.delete(t);
          }
        }
      }
    }
    return outputs.map((o) => {
      const v = values.get(o) ?? (this.isConst(o) ? this.constant(o) : undefined);
      if (!v) throw new Error(`Graph "${this.graph.name}" has no tensor "${o}" to return`);
      return v;
    });
  }

  /** Turns chosen constants (TFLite layout, float) into trainable tf.Variables used by forward(). */
  trainableVariables(names: string[]): Map<string, tf.Variable> {
    for (const name of names) {
      if (this.variables.has(name)) continue;
      const t = this.irTensor(name);
      if (!t.data) throw new Error(`Tensor "${name}" is not a constant; only weights can be made trainable`);
      const v = tf.tidy(() => tf.variable(this.rawConstant(t), true, `${this.graph.name}/${name}`.replace(/[^\w/.-]/g, '_')));
      this.variables.set(name, v);
      this.constCache.get(name)?.dispose();
      this.constCache.delete(name);
    }
    return new Map(names.map((n) => [n, this.variables.get(n)!]));
  }

  /** Current values of the trainable variables (TFLite layout), to write back into a graph. */
  variableData(): Map<string, Float32Array> {
    return new Map([...this.variables].map(([k, v]) => [k, v.dataSync() as Float32Array]));
  }

  dispose(): void {
    for (const t of this.constCache.values()) t.dispose();
    for (const v of this.variables.values()) v.dispose();
    this.constCache.clear();
    this.variables.clear();
  }

  private irTensor(name: string): IrTensor {
    const t = this.graph.tensors.get(name);
    if (!t) throw new Error(`Graph "${this.graph.name}" has no tensor "${name}"`);
    return t;
  }

  private isConst(name: string): boolean {
    return this.graph.tensors.get(name)?.data !== undefined;
  }

  private toTensor(name: string, v: ExecutorInput | undefined): tf.Tensor {
    if (v === undefined) throw new Error(`Missing input "${name}" for graph "${this.graph.name}"`);
    const shape = this.irTensor(name).shape;
    if (v instanceof tf.Tensor) {
      if (v.rank !== shape.length || v.shape.some((d, i) => i > 0 && shape[i] > 0 && d !== shape[i])) {
        throw new Error(`Input "${name}" has shape [${v.shape}], the graph expects [${shape}]`);
      }
      return v.clone(); // the caller keeps ownership of their tensor
    }
    const per = shape.slice(1).reduce((a, d) => a * d, 1);
    if (v.length === 0 || v.length % per !== 0) {
      throw new Error(`Input "${name}" has ${v.length} values; expected a multiple of ${per} (shape [${shape}])`);
    }
    return tf.tensor(v, [v.length / per, ...shape.slice(1)], v instanceof Int32Array ? 'int32' : 'float32');
  }

  private value(name: string, values: Map<string, tf.Tensor>): tf.Tensor {
    const v = values.get(name);
    if (v) return v;
    if (this.variables.has(name)) return this.variables.get(name)!;
    if (this.isConst(name)) return this.constant(name);
    throw new Error(`tensor "${name}" has no value yet`);
  }

  /** A constant as stored (TFLite layout), dequantized to float32 when it is quantized or float16. */
  private rawConstant(t: IrTensor): tf.Tensor {
    const d = t.data!;
    const shape = t.shape;
    if (t.dtype === 'float32') return tf.tensor(d as Float32Array, shape, 'float32');
    if (t.dtype === 'float16') return tf.tensor(fromFloat16(d as Uint16Array), shape, 'float32');
    if (t.quant && t.quant.scale.length) {
      const { scale, zeroPoint, axis = 0 } = t.quant;
      const out = new Float32Array(d.length);
      const inner = shape.slice(axis + 1).reduce((a, x) => a * x, 1);
      for (let i = 0; i < d.length; i++) {
        const ch = scale.length === 1 ? 0 : Math.floor(i / inner) % shape[axis];
        out[i] = scale[ch] * (Number(d[i]) - (zeroPoint[ch] ?? 0));
      }
      return tf.tensor(out, shape, 'float32');
    }
    if (t.dtype === 'int64') return tf.tensor(Int32Array.from(d as BigInt64Array, Number), shape, 'int32');
    return tf.tensor(Int32Array.from(d as ArrayLike<number>), shape, 'int32');
  }

  private constant(name: string): tf.Tensor {
    let c = this.constCache.get(name);
    if (!c) {
      c = tf.keep(this.rawConstant(this.irTensor(name)));
      this.constCache.set(name, c);
    }
    return c;
  }

  /** Weight in tfjs layout, cached for constants (converted per call for variables so gradients flow). */
  private weight(name: string, layoutKey: string, convert: (w: tf.Tensor) => tf.Tensor, get: (n: string) => tf.Tensor): tf.Tensor {
    if (this.variables.has(name)) return convert(this.variables.get(name)!);
    const key = `${name}\u0000${layoutKey}`;
    let c = this.constCache.get(key);
    if (!c) {
      c = tf.keep(tf.tidy(() => convert(get(name))));
      this.constCache.set(key, c);
    }
    return c;
  }

  private intsOf(name: string): number[] {
    const t = this.irTensor(name);
    if (!t.data) throw new Error(`operand "${name}" must be a constant`);
    return Array.from(t.data as ArrayLike<number | bigint>, Number);
  }

  private execOp(op: Op, get: (n: string) => tf.Tensor): tf.Tensor[] {
    const a = op.attrs;
    const x = () => get(op.inputs[0]);
    const bias = (i: number) => (op.inputs[i] ? get(op.inputs[i]) : undefined);
    const act = (t: tf.Tensor) => applyActivation(t, String(a.fusedActivationFunction ?? 'NONE'), op);
    const pad = (String(a.padding ?? 'VALID').toLowerCase()) as 'same' | 'valid';
    const strides: [number, number] = [Number(a.strideH ?? 1), Number(a.strideW ?? 1)];
    const dil: [number, number] = [Number(a.dilationHFactor ?? 1), Number(a.dilationWFactor ?? 1)];
    switch (op.type) {
      case 'CONV_2D': {
        const w = this.weight(op.inputs[1], 'hwio', (t) => tf.transpose(t, [1, 2, 3, 0]), get) as tf.Tensor4D;
        const y = tf.conv2d(x() as tf.Tensor4D, w, strides, pad, 'NHWC', dil);
        const b = bias(2);
        return [act(b ? tf.add(y, b) : y)];
      }
      case 'DEPTHWISE_CONV_2D': {
        const cin = x().shape[3]!;
        const w = this.weight(op.inputs[1], `dw${cin}`, (t) => {
          const [, kh, kw, cm] = t.shape;
          return tf.reshape(t, [kh, kw, cin, cm / cin]);
        }, get) as tf.Tensor4D;
        const y = tf.depthwiseConv2d(x() as tf.Tensor4D, w, strides, pad, 'NHWC', dil);
        const b = bias(2);
        return [act(b ? tf.add(y, b) : y)];
      }
      case 'TRANSPOSE_CONV': {
        const input = get(op.inputs[2]) as tf.Tensor4D;
        const w = this.weight(op.inputs[1], 'hwoi', (t) => tf.transpose(t, [1, 2, 0, 3]), get) as tf.Tensor4D;
        const os = this.intsOf(op.inputs[0]);
        const y = tf.conv2dTranspose(input, w, [input.shape[0], os[1], os[2], os[3]], strides, pad);
        const b = bias(3);
        return [act(b ? tf.add(y, b) : y)];
      }
      case 'FULLY_CONNECTED': {
        const input = x();
        const w = get(op.inputs[1]);
        const [units, cin] = w.shape;
        const y2 = tf.matMul(tf.reshape(input, [-1, cin]), w, false, true);
        const b = bias(2);
        const y = b ? tf.add(y2, b) : y2;
        return [act(a.keepNumDims ? tf.reshape(y, [...input.shape.slice(0, -1), units]) : y)];
      }
      case 'BATCH_NORM': {
        const [, g, b, m, v] = op.inputs.map((n) => get(n));
        return [tf.batchNorm(x(), m as tf.Tensor1D, v as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, Number(a.epsilon ?? 1e-3))];
      }
      case 'DROPOUT':
      case 'IDENTITY':
      case 'DEQUANTIZE':
        return [tf.clone(x())]; // a new tensor: outputs must be disposable independently of inputs
      case 'QUANTIZE': {
        // Float simulation: round to the output's grid and clamp to its integer range, values stay real.
        const q = this.irTensor(op.outputs[0]);
        if (!q.quant) return [tf.clone(x())];
        const s = q.quant.scale[0];
        const z = q.quant.zeroPoint[0];
        const [lo, hi] = q.dtype === 'uint8' ? [0, 255] : q.dtype === 'int16' ? [-32768, 32767] : [-128, 127];
        return [tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(x(), s)), z), lo, hi), z), s)];
      }
      case 'RELU': return [tf.relu(x())];
      case 'RELU6': return [tf.relu6(x())];
      case 'RELU_N1_TO_1': return [tf.clipByValue(x(), -1, 1)];
      case 'LEAKY_RELU': return [tf.leakyRelu(x(), Number(a.alpha ?? 0.2))];
      case 'PRELU': return [tf.prelu(x(), get(op.inputs[1]))];
      case 'ELU': return [tf.elu(x())];
      case 'LOGISTIC': return [tf.sigmoid(x())];
      case 'TANH': return [tf.tanh(x())];
      case 'HARD_SWISH': return [tf.div(tf.mul(x(), tf.relu6(tf.add(x(), 3))), 6)];
      case 'SOFTMAX': {
        const beta = Number(a.beta ?? 1);
        return [tf.softmax(beta === 1 ? x() : tf.mul(x(), beta))];
      }
      case 'LOG_SOFTMAX': return [tf.logSoftmax(x())];
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const size: [number, number] = [Number(a.filterHeight), Number(a.filterWidth)];
        const f = op.type === 'MAX_POOL_2D' ? tf.maxPool : tf.avgPool;
        return [act(f(x() as tf.Tensor4D, size, strides, pad))];
      }
      case 'MEAN':
      case 'REDUCE_MAX':
      case 'SUM': {
        const axes = this.intsOf(op.inputs[1]);
        const f = op.type === 'MEAN' ? tf.mean : op.type === 'SUM' ? tf.sum : tf.max;
        return [f(x(), axes, Boolean(a.keepDims))];
      }
      case 'ADD': return [act(tf.add(x(), get(op.inputs[1])))];
      case 'SUB': return [act(tf.sub(x(), get(op.inputs[1])))];
      case 'MUL': return [act(tf.mul(x(), get(op.inputs[1])))];
      case 'DIV': return [act(tf.div(x(), get(op.inputs[1])))];
      case 'MINIMUM': return [tf.minimum(x(), get(op.inputs[1]))];
      case 'MAXIMUM': return [tf.maximum(x(), get(op.inputs[1]))];
      case 'CONCATENATION': return [act(tf.concat(op.inputs.map((n) => get(n)), Number(a.axis ?? -1)))];
      case 'PAD':
      case 'PADV2': {
        const p = this.intsOf(op.inputs[1]);
        const pairs = Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [number, number]);
        const value = op.inputs[2] ? this.irTensor(op.inputs[2]).data![0] : 0;
        return [tf.pad(x(), pairs, Number(value))];
      }
      case 'RESHAPE': {
        // Prefer the IR output shape (batch -1), so any batch size runs; fall back to the shape operand.
        const outShape = this.irTensor(op.outputs[0]).shape;
        const target = outShape.filter((d) => d === -1).length <= 1 && outShape.length
          ? outShape
          : op.inputs[1] ? this.intsOf(op.inputs[1]) : (a.newShape as number[]);
        return [tf.reshape(x(), target)];
      }
      case 'TRANSPOSE': return [tf.transpose(x(), this.intsOf(op.inputs[1]))];
      case 'RESIZE_NEAREST_NEIGHBOR':
      case 'RESIZE_BILINEAR': {
        const [h, w] = this.intsOf(op.inputs[1]);
        const f = op.type === 'RESIZE_BILINEAR' ? tf.image.resizeBilinear : tf.image.resizeNearestNeighbor;
        return [f(x() as tf.Tensor4D, [h, w], Boolean(a.alignCorners), Boolean(a.halfPixelCenters))];
      }
      default:
        throw new Error(`unsupported op type ${op.type}`);
    }
  }
}

function applyActivation(t: tf.Tensor, fn: string, op: Op): tf.Tensor {
  switch (fn) {
    case 'NONE': return t;
    case 'RELU': return tf.relu(t);
    case 'RELU6': return tf.relu6(t);
    case 'RELU_N1_TO_1': return tf.clipByValue(t, -1, 1);
    case 'TANH': return tf.tanh(t);
    default: throw new Error(`op "${op.name}": fused activation ${fn} is not supported`);
  }
}

/** One-shot: runs `graph` and returns the requested tensors' values (all tensors disposed). */
export async function run(graph: Graph, inputs: Record<string, ExecutorInput>, opts: { outputs?: string[] } = {}):
  Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const ex = new Executor(graph);
  try {
    return await ex.runData(inputs, opts);
  } finally {
    ex.dispose();
  }
}
