/**
 * The three backprop kernels @tensorflow/tfjs-backend-wasm 4.22 lacks (so conv models cannot train on it):
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput.
 * Each is a composite of kernels wasm does have (pad + one gather for im2col, batch matmul, multiply + sum,
 * zero-interleave + reverse + depthwise conv), ~20-30x faster than the pure-JS cpu backend's naive loops.
 * Limits: NHWC, dilation 1 (what Keras conv layers use); anything else throws a clear Error.
 * Checked against the cpu backend's reference kernels in test/unit/model/wasm-grad-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export const MISSING_WASM_GRAD_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

type KernelArgs = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap };
type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = Parameters<typeof tf.backend_util.computeConv2DInfo>[5];

function requireUnitDilation(kernel: string, dilations: unknown): void {
  const ok = dilations == null || dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1));
  if (!ok) throw new Error(`${kernel} on wasm: dilations ${JSON.stringify(dilations)} are not supported (only 1)`);
}

function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm: data format ${String(dataFormat)} is not supported (only NHWC)`);
  }
}

/** Gather indices per (shape, window) key; kept alive (tf.keep) because training reuses them every step. */
const im2colIndexCache = new Map<string, tf.Tensor1D>();

/** im2col by ONE gather: x [N,H,W,C] → patches [N·Ho·Wo, kh·kw, C] (window row-major, channels inner). */
function im2col(x: tf.Tensor4D, info: Conv2DInfo): tf.Tensor3D {
  const { top, bottom, left, right } = info.padInfo;
  const [n, h, w, c] = x.shape;
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const hp = h + top + bottom;
  const wp = w + left + right;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && hp === ho && wp === wo) return tf.reshape(x, [n * ho * wo, 1, c]);
  const key = [n, hp, wp, ho, wo, sh, sw, kh, kw].join(',');
  let idx = im2colIndexCache.get(key);
  if (!idx) {
    const a = new Int32Array(n * ho * wo * kh * kw);
    let o = 0;
    for (let b = 0; b < n; b++)
      for (let y = 0; y < ho; y++)
        for (let x0 = 0; x0 < wo; x0++)
          for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) a[o++] = (b * hp + y * sh + i) * wp + x0 * sw + j;
    idx = tf.keep(tf.tensor1d(a, 'int32'));
    im2colIndexCache.set(key, idx);
  }
  const padded = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
  return tf.reshape(tf.gather(tf.reshape(padded, [n * hp * wp, c]), idx), [n * ho * wo, kh * kw, c]);
}

function conv2DBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const a = attrs ?? {};
  requireNhwc('Conv2DBackpropFilter', a.dataFormat);
  requireUnitDilation('Conv2DBackpropFilter', a.dilations);
  const filterShape = a.filterShape as [number, number, number, number];
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape, filterShape, a.strides as [number, number], 1, a.pad as Pad, a.dimRoundingMode as Rounding);
    const [kh, kw, cin, cout] = filterShape;
    const patches = tf.reshape(im2col(x, info), [-1, kh * kw * cin]);
    return tf.reshape(tf.matMul(patches, tf.reshape(dy, [-1, cout]), true, false), filterShape);
  });
}

function depthwiseBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const a = attrs ?? {};
  requireUnitDilation('DepthwiseConv2dNativeBackpropFilter', a.dilations);
  const filterShape = a.filterShape as [number, number, number, number];
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape, filterShape, a.strides as [number, number], 1, a.pad as Pad, a.dimRoundingMode as Rounding, true);
    const [, , c, mult] = filterShape;
    const [n, ho, wo] = dy.shape;
    const cols = im2col(x, info);
    const r = mult === 1
      ? tf.sum(tf.mul(cols, tf.reshape(dy, [n * ho * wo, 1, c])), 0)
      : tf.sum(tf.mul(tf.expandDims(cols, 3), tf.reshape(dy, [n * ho * wo, 1, c, mult])), 0);
    return tf.reshape(r, filterShape);
  });
}

/** Zero-interleave a stride: [N,H,W,C] → [N,(H-1)·sh+1,(W-1)·sw+1,C]. */
function interleaveZeros(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  const r = tf.pad(tf.reshape(t, [n * h, 1, w, 1, c]), [[0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.slice(tf.reshape(r, [n, h * sh, w * sw, c]), [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

function depthwiseBackpropInput({ inputs, attrs }: KernelArgs): TensorInfo {
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D;
  const a = attrs ?? {};
  requireUnitDilation('DepthwiseConv2dNativeBackpropInput', a.dilations);
  const inputShape = a.inputShape as [number, number, number, number];
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape, a.strides as [number, number], 1, a.pad as Pad, a.dimRoundingMode as Rounding, true);
    const [kh, kw, c, mult] = filter.shape;
    const [n, h, w] = inputShape;
    const { top, left } = info.padInfo;
    const flipped = tf.reverse(filter, [0, 1]);
    const parts: tf.Tensor4D[] = [];
    for (let m = 0; m < mult; m++) {
      const dyM = mult === 1 ? dy
        : tf.reshape(tf.slice(tf.reshape(dy, [...dy.shape.slice(0, 3), c, mult]), [0, 0, 0, 0, m], [-1, -1, -1, -1, 1]),
          [dy.shape[0], dy.shape[1], dy.shape[2], c]) as tf.Tensor4D;
      const wM = mult === 1 ? flipped : tf.slice(flipped, [0, 0, 0, m], [-1, -1, -1, 1]);
      const d = interleaveZeros(dyM, info.strideHeight, info.strideWidth);
      // Full correlation with the flipped filter: pad so the output lands exactly on the input grid.
      const pt = kh - 1 - top;
      const pl = kw - 1 - left;
      const pb = h - d.shape[1] - pt + kh - 1;
      const pr = w - d.shape[2] - pl + kw - 1;
      let p = tf.pad(d, [[0, 0], [Math.max(pt, 0), Math.max(pb, 0)], [Math.max(pl, 0), Math.max(pr, 0)], [0, 0]]);
      if (pt < 0 || pb < 0 || pl < 0 || pr < 0) {
        const cutT = Math.max(-pt, 0), cutB = Math.max(-pb, 0), cutL = Math.max(-pl, 0), cutR = Math.max(-pr, 0);
        p = tf.slice(p, [0, cutT, cutL, 0], [n, p.shape[1] - cutT - cutB, p.shape[2] - cutL - cutR, c]);
      }
      parts.push(tf.depthwiseConv2d(p, wM, 1, 'valid'));
    }
    return parts.length === 1 ? parts[0] : tf.addN(parts);
  });
}

/** Registers the composites for the given backends (replacing any existing kernel of the same name). */
export function registerWasmGradKernels(backendNames: string[] = ['wasm']): void {
  const kernels = {
    Conv2DBackpropFilter: conv2DBackpropFilter,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  };
  for (const backendName of backendNames) {
    for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
      if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as tf.KernelFunc });
    }
  }
}
