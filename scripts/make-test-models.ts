/**
 * Generates the small model fixtures under test/fixtures/models/ (committed; re-run after changing it):
 *   tfjs/<name>/        TF.js layers model.json + weights.bin (float32; convnet also uint8- and float16-quantized)
 *   keras/<name>.keras  the same models as Keras 3 archives (config.json, metadata.json, model.weights.h5)
 *   h5/<name>.h5        the same models as legacy Keras 2 HDF5 files (model_config + model_weights)
 *   keras/keras_extras.keras, h5/keras_extras.h5  layers tfjs lacks (Subtract, Normalization, silu, hard_silu)
 *   tfjs-graph/convnet/ a hand-written TF.js graph model (model.json + weights.bin)
 *   manifest.json       what each fixture is and how tests should check it
 * Layouts are documented in docs/model.md. Usage: node --import tsx scripts/make-test-models.ts
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zipSync, strToU8 } from 'fflate';
import type * as H5 from 'h5wasm';
import { initCompute } from '../native-bridges/tfjs-backend.ts';
import { fileSaveHandler } from '../main/model/tfjs-io.ts';
import { writeHdf5 } from '../main/model/hdf5.ts';
import { kerasV3WeightPaths } from '../main/model/importers/keras-v3.ts';
import { toFloat16 } from '../main/model/float16.ts';

const OUT = fileURLToPath(new URL('../test/fixtures/models/', import.meta.url));
const L = tf.layers;
type ST = tf.SymbolicTensor;

/** Every supported layer appears in at least one of these. */
function buildModels(): Record<string, tf.LayersModel> {
  const convIn = tf.input({ shape: [16, 16, 3], name: 'image' });
  let x = L.conv2d({ name: 'c1', filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(convIn) as ST;
  x = L.batchNormalization({ name: 'bn1' }).apply(x) as ST;
  x = L.reLU({ name: 'relu6_1', maxValue: 6 }).apply(x) as ST;
  x = L.depthwiseConv2d({ name: 'dw', kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, useBias: false }).apply(x) as ST;
  x = L.batchNormalization({ name: 'bn2', scale: false }).apply(x) as ST;
  x = L.activation({ name: 'act_relu', activation: 'relu' }).apply(x) as ST;
  x = L.separableConv2d({ name: 'sep', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu6' }).apply(x) as ST;
  x = L.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(x) as ST;
  x = L.conv2d({ name: 'c2', filters: 8, kernelSize: 1, activation: 'elu' }).apply(x) as ST;
  x = L.globalAveragePooling2d({ name: 'gap' }).apply(x) as ST;
  x = L.dropout({ name: 'drop', rate: 0.3 }).apply(x) as ST;
  const convOut = L.dense({ name: 'fc', units: 10, activation: 'softmax' }).apply(x) as ST;
  const convnet = tf.model({ name: 'convnet', inputs: convIn, outputs: convOut });

  const bIn = tf.input({ shape: [8, 8, 4], name: 'features' });
  const a = L.conv2d({ name: 'ca', filters: 6, kernelSize: 3, padding: 'same', activation: 'sigmoid' }).apply(bIn) as ST;
  const bb = L.conv2d({ name: 'cb', filters: 6, kernelSize: 1, activation: 'tanh' }).apply(bIn) as ST;
  const s = L.add({ name: 'sum' }).apply([a, bb]) as ST;
  const m = L.multiply({ name: 'prod' }).apply([a, bb]) as ST;
  let y = L.concatenate({ name: 'cat', axis: -1 }).apply([s, m]) as ST;
  y = L.leakyReLU({ name: 'leaky', alpha: 0.1 }).apply(y) as ST;
  y = L.prelu({ name: 'prelu', sharedAxes: [1, 2] }).apply(y) as ST;
  const ap = L.averagePooling2d({ name: 'avg', poolSize: 2, strides: 2, padding: 'same' }).apply(y) as ST;
  const up = L.upSampling2d({ name: 'up_nearest', size: [2, 2] }).apply(ap) as ST;
  const tc = L.conv2dTranspose({ name: 'tconv', filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(ap) as ST;
  y = L.concatenate({ name: 'cat2' }).apply([up, tc]) as ST;
  y = L.activation({ name: 'act_swish', activation: 'swish' }).apply(y) as ST;
  y = L.zeroPadding2d({ name: 'zpad', padding: [[1, 0], [0, 1]] }).apply(y) as ST;
  y = L.conv2d({ name: 'cv', filters: 8, kernelSize: 3, activation: 'relu' }).apply(y) as ST;
  y = L.rescaling({ name: 'rescale', scale: 0.5, offset: 0.1 }).apply(y) as ST;
  y = L.activation({ name: 'act_linear', activation: 'linear' }).apply(y) as ST;
  const gm = L.globalMaxPooling2d({ name: 'gmp' }).apply(y) as ST;
  let r = L.reshape({ name: 'reshape', targetShape: [2, 4] }).apply(gm) as ST;
  r = L.elu({ name: 'elu' }).apply(r) as ST;
  r = L.flatten({ name: 'flat' }).apply(r) as ST;
  r = L.activation({ name: 'act_relu6', activation: 'relu6' }).apply(r) as ST;
  const bOut = L.dense({ name: 'head', units: 6, activation: 'tanh' }).apply(r) as ST;
  const blocks = tf.model({ name: 'blocks', inputs: bIn, outputs: bOut });

  const upsample = tf.sequential({ name: 'upsample_bilinear', layers: [
    L.upSampling2d({ name: 'up_bilinear', inputShape: [4, 4, 2], size: [2, 2], interpolation: 'bilinear' }),
    L.conv2d({ name: 'pw', filters: 2, kernelSize: 1 }),
  ] });

  const innerSeq = tf.sequential({ name: 'inner_seq', layers: [
    L.conv2d({ name: 'ic', inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    L.batchNormalization({ name: 'ibn' }),
  ] });
  const fIn = tf.input({ shape: [6, 6, 4], name: 'inner_in' });
  const fOut = L.reLU({ name: 'irelu' }).apply(L.dense({ name: 'idense', units: 5 }).apply(fIn)) as ST;
  const innerFn = tf.model({ name: 'inner_fn', inputs: fIn, outputs: fOut });
  const nIn = tf.input({ shape: [6, 6, 3], name: 'pixels' });
  let n = innerSeq.apply(nIn) as ST;
  n = innerFn.apply(n) as ST;
  n = L.flatten({ name: 'nflat' }).apply(n) as ST;
  const nested = tf.model({ name: 'nested', inputs: nIn, outputs: L.dense({ name: 'nout', units: 3, activation: 'softmax' }).apply(n) as ST });

  const mlp = tf.sequential({ name: 'mlp', layers: [
    L.dense({ name: 'h1', inputShape: [20], units: 16, activation: 'relu' }),
    L.dropout({ name: 'mdrop', rate: 0.2 }),
    L.dense({ name: 'h2', units: 8, activation: 'sigmoid' }),
    L.dense({ name: 'h3', units: 4 }),
    L.softmax({ name: 'prob' }),
  ] });
  return { convnet, blocks, upsample_bilinear: upsample, nested, mlp };
}

/** Random BN statistics so folding is really exercised (fresh BN layers have mean 0, variance 1). */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let k = seed;
  for (const w of model.weights) {
    const short = w.name.split('/').pop()!;
    const shape = w.shape as number[];
    const v = short === 'moving_variance' ? tf.randomUniform(shape, 0.5, 1.5, 'float32', k++)
      : short === 'gamma' ? tf.randomUniform(shape, 0.5, 1.5, 'float32', k++)
        : tf.randomNormal(shape, 0, short === 'kernel' || short.endsWith('_kernel') ? 0.5 : 0.2, 'float32', k++);
    w.write(v);
  }
}

async function saveTfjs(model: tf.LayersModel, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  await model.save(fileSaveHandler(dir));
}

/** Rewrites a saved float model's weights as the tfjs converter's uint8 affine or float16 quantization. */
function quantizeTfjs(srcDir: string, dstDir: string, kind: 'uint8' | 'float16'): void {
  const json = JSON.parse(readFileSync(`${srcDir}/model.json`, 'utf8'));
  const bin = readFileSync(`${srcDir}/weights.bin`);
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const parts: Uint8Array[] = [];
  let o = 0;
  for (const w of json.weightsManifest[0].weights) {
    const n = w.shape.reduce((a: number, d: number) => a * d, 1);
    const v = floats.subarray(o, o + n);
    o += n;
    if (kind === 'float16') {
      parts.push(new Uint8Array(toFloat16(v).buffer));
      w.quantization = { dtype: 'float16', original_dtype: 'float32' };
    } else {
      let min = Infinity;
      let max = -Infinity;
      for (const x of v) { min = Math.min(min, x); max = Math.max(max, x); }
      const scale = max > min ? (max - min) / 255 : 1;
      parts.push(Uint8Array.from(v, (x) => Math.round((x - min) / scale)));
      w.quantization = { dtype: 'uint8', min, scale, original_dtype: 'float32' };
    }
  }
  mkdirSync(dstDir, { recursive: true });
  writeFileSync(`${dstDir}/weights.bin`, Buffer.concat(parts));
  writeFileSync(`${dstDir}/model.json`, JSON.stringify(json));
}

// ---- Keras 2 (.h5) and Keras 3 (.keras) writers -------------------------------------------------------------------

type Json = any;
const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Concatenate', 'Average', 'Maximum', 'Minimum']);

/** tfjs writes class "Model" where Keras 2.4+ writes "Functional". */
function toKeras2(cfg: Json): Json {
  if (Array.isArray(cfg)) return cfg.map(toKeras2);
  if (!cfg || typeof cfg !== 'object') return cfg;
  const out: Json = {};
  for (const [k, v] of Object.entries(cfg)) out[k] = k === 'class_name' && v === 'Model' ? 'Functional' : toKeras2(v);
  return out;
}

const DTYPE_POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function keras3LayerConfig(className: string, cfg: Json): Json {
  const c: Json = { ...cfg, dtype: DTYPE_POLICY };
  delete c.batch_input_shape;
  if (className === 'LeakyReLU') {
    c.negative_slope = c.alpha;
    delete c.alpha;
  }
  return c;
}

function keras3Tensor(ref: Json[], shapeOf: (layer: string) => (number | null)[]): Json {
  return { class_name: '__keras_tensor__', config: { shape: shapeOf(String(ref[0])), dtype: 'float32', keras_history: [ref[0], ref[1], ref[2]] } };
}

/** A Keras 2 model config (as tfjs writes it) in Keras 3's serialization. */
function toKeras3(model: Json, shapeOf: (layer: string) => (number | null)[]): Json {
  const cls = model.class_name === 'Model' ? 'Functional' : model.class_name;
  const cfg = model.config;
  if (cls === 'Sequential') {
    const layers = cfg.layers;
    const first = layers[0].config;
    return {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: cfg.name, trainable: true, dtype: DTYPE_POLICY,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null,
            config: { batch_shape: first.batch_input_shape, dtype: 'float32', sparse: false, name: `${cfg.name}_input` } },
          ...layers.map((l: Json) => layer3(l, shapeOf, [])),
        ],
        build_input_shape: first.batch_input_shape,
      },
    };
  }
  const endpoints = (v: Json[]) => (v.length === 1 ? v[0] : v); // Keras 3 writes a single endpoint unwrapped
  return {
    module: 'keras', class_name: 'Functional', registered_name: 'Functional',
    config: {
      name: cfg.name, trainable: true,
      layers: cfg.layers.map((l: Json) => layer3(l, shapeOf, l.inbound_nodes)),
      input_layers: endpoints(cfg.input_layers),
      output_layers: endpoints(cfg.output_layers),
    },
  };
}

function layer3(l: Json, shapeOf: (layer: string) => (number | null)[], inbound: Json[]): Json {
  const nodes = inbound.map((node: Json[]) => {
    // tfjs numbers a nested model's first call node 1; Keras 3 numbers calls within this model from 0.
    const kts = node.map((ref: Json) => keras3Tensor([ref[0], 0, ref[2]], shapeOf));
    return { args: MERGE.has(l.class_name) ? [kts] : kts, kwargs: {} };
  });
  if (l.class_name === 'Sequential' || l.class_name === 'Model' || l.class_name === 'Functional') {
    const inner = toKeras3({ class_name: l.class_name, config: l.config }, shapeOf);
    return { ...inner, name: l.name, inbound_nodes: nodes };
  }
  if (l.class_name === 'InputLayer') {
    return { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, name: l.name,
      config: { batch_shape: l.config.batch_input_shape, dtype: 'float32', sparse: false, name: l.name }, inbound_nodes: [] };
  }
  return { module: 'keras.layers', class_name: l.class_name, config: keras3LayerConfig(l.class_name, { ...l.config, name: l.name ?? l.config.name }),
    registered_name: null, name: l.name ?? l.config.name, inbound_nodes: nodes };
}

interface LayerWeights { name: string; layers?: LayerWeights[]; vars: { short: string; shape: number[]; data: Float32Array }[] }

/** Layer tree with weights in Keras creation order (the order tfjs keeps in layer.weights). */
function weightTree(layers: tf.layers.Layer[]): LayerWeights[] {
  return layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => {
    const isModel = l instanceof tf.LayersModel;
    return {
      name: l.name,
      layers: isModel ? weightTree((l as tf.LayersModel).layers) : undefined,
      vars: isModel ? [] : l.weights.map((w) => ({ short: w.name.split('/').pop()!, shape: w.shape as number[], data: w.read().dataSync() as Float32Array })),
    };
  });
}

function dataset(g: H5.Group, name: string, v: { shape: number[]; data: Float32Array }): void {
  g.create_dataset({ name, data: v.data, shape: v.shape, dtype: '<f' });
}

/**
 * Keras 3 model.weights.h5: every layer's variables at `<path>/vars/<i>`, where the path is positional by class
 * (`layers/conv2d`, `layers/conv2d_1`, nested `layers/functional/layers/dense`), as Keras's saving_lib writes it.
 */
function writeKeras3Weights(f: H5.File, tree: LayerWeights[], config3: Json): void {
  const paths = kerasV3WeightPaths(config3);
  const ensure = (path: string): H5.Group => {
    let g: H5.Group = f;
    for (const part of path.split('/')) g = (g.get(part) as H5.Group | null) ?? g.create_group(part);
    return g;
  };
  const walk = (nodes: LayerWeights[], prefix: string[]) => {
    for (const n of nodes) {
      const h5 = paths.get([...prefix, n.name].join('/'));
      if (!h5) throw new Error(`fixture writer: no Keras 3 weight path for ${[...prefix, n.name].join('/')}`);
      const vars = ensure(`${h5}/vars`);
      n.vars.forEach((v, i) => dataset(vars, String(i), v));
      if (n.layers) walk(n.layers, [...prefix, n.name]);
    }
  };
  walk(tree, []);
  f.create_group('optimizer').create_group('vars');
  f.create_group('vars');
}

/** Legacy .h5: model_weights/<layer>/<layer>/<w>:0, attrs layer_names and weight_names. */
function writeKeras2(f: H5.File, config: Json, tree: LayerWeights[], allLayerNames: string[]): void {
  f.create_attribute('model_config', JSON.stringify(config));
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('backend', 'tensorflow');
  const mw = f.create_group('model_weights');
  mw.create_attribute('layer_names', allLayerNames);
  mw.create_attribute('keras_version', '2.15.0');
  mw.create_attribute('backend', 'tensorflow');
  for (const name of allLayerNames) {
    const node = tree.find((t) => t.name === name);
    const g = mw.create_group(name);
    const leaves = !node ? [] : node.layers ? node.layers.filter((l) => !l.layers) : [node];
    if (node?.layers?.some((l) => l.layers)) throw new Error('fixture writer: doubly nested models are not written');
    const names: string[] = [];
    for (const leaf of leaves) {
      if (!leaf.vars.length) continue;
      const lg = g.create_group(leaf.name);
      for (const v of leaf.vars) {
        dataset(lg, `${v.short}:0`, v);
        names.push(`${leaf.name}/${v.short}:0`);
      }
    }
    if (names.length) g.create_attribute('weight_names', names); // h5wasm cannot write an empty string array
  }
}

function shapeLookup(model: tf.LayersModel): (layer: string) => (number | null)[] {
  const all = new Map<string, tf.layers.Layer>();
  const walk = (m: tf.LayersModel) => m.layers.forEach((l) => {
    all.set(l.name, l);
    if (l instanceof tf.LayersModel) walk(l);
  });
  walk(model);
  return (name) => {
    const l = all.get(name);
    const s = l ? (l.outputShape as (number | null)[]) : null;
    return Array.isArray(s) && (s.length === 0 || !Array.isArray(s[0])) ? s : [];
  };
}

async function writeKerasFormats(name: string, model: tf.LayersModel): Promise<void> {
  const topo = JSON.parse(JSON.stringify(model.toJSON(null, false)));
  const tree = weightTree(model.layers);
  const h5 = await writeHdf5((f) => writeKeras2(f, { class_name: toKeras2(topo).class_name, config: toKeras2(topo.config) }, tree,
    model.layers.map((l) => l.name)));
  writeFileSync(`${OUT}h5/${name}.h5`, h5);
  const cfg3 = toKeras3(topo, shapeLookup(model));
  const weights = await writeHdf5((f) => writeKeras3Weights(f, tree, cfg3));
  const zip = zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.6.0', date_saved: '2026-11-24@00:00:00' })),
    'config.json': strToU8(JSON.stringify({ ...cfg3, compile_config: null, build_config: { input_shape: model.inputs[0].shape } })),
    'model.weights.h5': weights,
  });
  writeFileSync(`${OUT}keras/${name}.keras`, zip);
}

/** Layers tfjs cannot build: written straight as Keras configs; tests compute the reference with tf ops. */
async function writeKerasExtras(): Promise<void> {
  const rnd = (shape: number[], seed: number) => ({ shape, data: tf.randomNormal(shape, 0, 0.5, 'float32', seed).dataSync() as Float32Array });
  const k1 = rnd([1, 1, 3, 4], 101), b1 = rnd([4], 102), k2 = rnd([1, 1, 3, 4], 103), b2 = rnd([4], 104);
  const kd = rnd([4, 3], 105), bd = rnd([3], 106);
  const mean = { shape: [3], data: Float32Array.of(0.1, -0.2, 0.3) };
  const variance = { shape: [3], data: Float32Array.of(0.5, 2, 1.5) };
  const count = { shape: [], data: Float32Array.of(100) };
  const conv = (name: string, act: string) => ({ class_name: 'Conv2D', name, config: { name, filters: 4, kernel_size: [1, 1], strides: [1, 1],
    padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: act, use_bias: true } });
  const k2layers = [
    { class_name: 'InputLayer', name: 'inp', config: { batch_input_shape: [null, 4, 4, 3], dtype: 'float32', sparse: false, name: 'inp' }, inbound_nodes: [] },
    { class_name: 'Normalization', name: 'norm', config: { name: 'norm', axis: [-1], mean: null, variance: null, invert: false }, inbound_nodes: [[['inp', 0, 0, {}]]] },
    { ...conv('conv_hs', 'hard_silu'), inbound_nodes: [[['norm', 0, 0, {}]]] },
    { ...conv('conv_silu', 'silu'), inbound_nodes: [[['norm', 0, 0, {}]]] },
    { class_name: 'Subtract', name: 'diff', config: { name: 'diff' }, inbound_nodes: [[['conv_hs', 0, 0, {}], ['conv_silu', 0, 0, {}]]] },
    { class_name: 'GlobalAveragePooling2D', name: 'gap', config: { name: 'gap', data_format: 'channels_last', keepdims: false }, inbound_nodes: [[['diff', 0, 0, {}]]] },
    { class_name: 'Dense', name: 'out', config: { name: 'out', units: 3, activation: 'linear', use_bias: true }, inbound_nodes: [[['gap', 0, 0, {}]]] },
  ];
  const cfg2 = { class_name: 'Functional', config: { name: 'keras_extras', layers: k2layers, input_layers: [['inp', 0, 0]], output_layers: [['out', 0, 0]] } };
  const tree: LayerWeights[] = [
    { name: 'norm', vars: [{ short: 'mean', ...mean }, { short: 'variance', ...variance }, { short: 'count', ...count }] },
    { name: 'conv_hs', vars: [{ short: 'kernel', ...k1 }, { short: 'bias', ...b1 }] },
    { name: 'conv_silu', vars: [{ short: 'kernel', ...k2 }, { short: 'bias', ...b2 }] },
    { name: 'diff', vars: [] }, { name: 'gap', vars: [] },
    { name: 'out', vars: [{ short: 'kernel', ...kd }, { short: 'bias', ...bd }] },
  ];
  writeFileSync(`${OUT}h5/keras_extras.h5`, await writeHdf5((f) => writeKeras2(f, cfg2, tree, ['inp', ...tree.map((t) => t.name)])));
  const shapes: Record<string, (number | null)[]> = { inp: [null, 4, 4, 3], norm: [null, 4, 4, 3], conv_hs: [null, 4, 4, 4], conv_silu: [null, 4, 4, 4], diff: [null, 4, 4, 4], gap: [null, 4] };
  const cfg3 = toKeras3({ class_name: 'Functional', config: cfg2.config }, (l) => shapes[l] ?? []);
  writeFileSync(`${OUT}keras/keras_extras.keras`, zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.6.0', date_saved: '2026-11-24@00:00:00' })),
    'config.json': strToU8(JSON.stringify(cfg3)),
    'model.weights.h5': await writeHdf5((f) => writeKeras3Weights(f, tree, cfg3)),
  }));
}

// ---- TF.js graph model ----------------------------------------------------------------------------------------------

function writeGraphModel(dir: string): void {
  const rnd = (shape: number[], seed: number, sd = 0.5) => tf.randomNormal(shape, 0, sd, 'float32', seed).dataSync() as Float32Array;
  const weights: { name: string; shape: number[]; dtype: string; data: Float32Array | Int32Array }[] = [
    { name: 'w1', shape: [3, 3, 3, 4], dtype: 'float32', data: rnd([3, 3, 3, 4], 201) },
    { name: 'b1', shape: [4], dtype: 'float32', data: rnd([4], 202, 0.1) },
    { name: 'wd', shape: [3, 3, 4, 1], dtype: 'float32', data: rnd([3, 3, 4, 1], 203) },
    { name: 'bd', shape: [4], dtype: 'float32', data: rnd([4], 204, 0.1) },
    { name: 'w2', shape: [1, 1, 4, 4], dtype: 'float32', data: rnd([1, 1, 4, 4], 205) },
    { name: 'b2', shape: [4], dtype: 'float32', data: rnd([4], 206, 0.1) },
    { name: 'k', shape: [], dtype: 'float32', data: Float32Array.of(0.75) },
    { name: 'axis', shape: [], dtype: 'int32', data: Int32Array.of(-1) },
    { name: 'paddings', shape: [4, 2], dtype: 'int32', data: Int32Array.of(0, 0, 1, 1, 1, 1, 0, 0) },
    { name: 'mean_axes', shape: [2], dtype: 'int32', data: Int32Array.of(1, 2) },
    { name: 'flat_shape', shape: [2], dtype: 'int32', data: Int32Array.of(-1, 32) },
    { name: 'wm', shape: [32, 8], dtype: 'float32', data: rnd([32, 8], 207, 0.3) },
    { name: 'bm', shape: [8], dtype: 'float32', data: rnd([8], 208, 0.1) },
    { name: 'wo', shape: [8, 5], dtype: 'float32', data: rnd([8, 5], 209) },
  ];
  const s = (v: string) => Buffer.from(v).toString('base64');
  const list = (...i: number[]) => ({ list: { i: i.map(String) } });
  const T = { type: 'DT_FLOAT' };
  const conv = { T, data_format: { s: s('NHWC') }, dilations: list(1, 1, 1, 1), padding: { s: s('SAME') } };
  const node = (name: string, op: string, input: string[], attr: Json = {}) => ({ name, op, input, attr });
  const consts = weights.map((w) => node(w.name, 'Const', [], { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' }, value: { tensor: { dtype: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: w.shape.map((d) => ({ size: String(d) })) } } } }));
  const nodes = [
    node('x', 'Placeholder', [], { dtype: T, shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } }),
    ...consts,
    node('c1', '_FusedConv2D', ['x', 'w1', 'b1'], { ...conv, strides: list(1, 1, 1, 1), num_args: { i: '1' }, fused_ops: { list: { s: [s('BiasAdd'), s('Relu')] } }, epsilon: { f: 0 } }),
    node('d1', 'FusedDepthwiseConv2dNative', ['c1', 'wd', 'bd'], { ...conv, strides: list(1, 2, 2, 1), num_args: { i: '1' }, fused_ops: { list: { s: [s('BiasAdd'), s('Relu6')] } } }),
    node('c2', 'Conv2D', ['d1', 'w2'], { ...conv, padding: { s: s('VALID') }, strides: list(1, 1, 1, 1) }),
    node('c2b', 'BiasAdd', ['c2', 'b2'], { T, data_format: { s: s('NHWC') } }),
    node('sum', 'AddV2', ['c2b', 'd1'], { T }),
    node('scaled', 'Mul', ['sum', 'k'], { T }),
    node('diff', 'Sub', ['scaled', 'd1'], { T }),
    node('r', 'Relu', ['diff'], { T }),
    node('e', 'Elu', ['diff'], { T }),
    node('cat', 'ConcatV2', ['r', 'e', 'axis'], { T, N: { i: '2' }, Tidx: { type: 'DT_INT32' } }),
    node('padded', 'Pad', ['cat', 'paddings'], { T, Tpaddings: { type: 'DT_INT32' } }),
    node('mp', 'MaxPool', ['padded'], { T, data_format: { s: s('NHWC') }, padding: { s: s('VALID') }, ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1) }),
    node('ap', 'AvgPool', ['padded'], { T, data_format: { s: s('NHWC') }, padding: { s: s('VALID') }, ksize: list(1, 3, 3, 1), strides: list(1, 3, 3, 1) }),
    node('m', 'Mean', ['mp', 'mean_axes'], { T, keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } }),
    node('flat', 'Reshape', ['ap', 'flat_shape'], { T, Tshape: { type: 'DT_INT32' } }),
    node('fm', '_FusedMatMul', ['flat', 'wm', 'bm'], { T, transpose_a: { b: false }, transpose_b: { b: false }, num_args: { i: '1' }, fused_ops: { list: { s: [s('BiasAdd'), s('Relu')] } }, epsilon: { f: 0 } }),
    node('t', 'Tanh', ['fm'], { T }),
    node('a2', 'AddV2', ['t', 'm'], { T }),
    node('logits', 'MatMul', ['a2', 'wo'], { T, transpose_a: { b: false }, transpose_b: { b: false } }),
    node('probs', 'Softmax', ['logits'], { T }),
    node('Identity', 'Identity', ['probs'], { T }),
  ];
  const bin = Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/weights.bin`, bin);
  writeFileSync(`${dir}/model.json`, JSON.stringify({
    format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'Edgewise make-test-models (hand-written)',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1482 } },
    signature: { inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } },
      outputs: { Identity: { name: 'Identity:0', dtype: 'DT_FLOAT' } } },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  }));
}

async function main(): Promise<void> {
  await initCompute();
  for (const d of ['tfjs', 'keras', 'h5', 'tfjs-graph']) mkdirSync(`${OUT}${d}`, { recursive: true });
  const models = buildModels();
  const manifest: Json = { layers: [], keras: [], h5: [], graph: [] };
  let seed = 1;
  for (const [name, model] of Object.entries(models)) {
    randomizeWeights(model, seed += 100);
    await saveTfjs(model, `${OUT}tfjs/${name}`);
    await writeKerasFormats(name, model);
    manifest.layers.push({ name, path: `tfjs/${name}/model.json`, inputShape: model.inputs[0].shape });
    manifest.keras.push({ name, path: `keras/${name}.keras`, twin: `tfjs/${name}/model.json`, inputShape: model.inputs[0].shape });
    manifest.h5.push({ name, path: `h5/${name}.h5`, twin: `tfjs/${name}/model.json`, inputShape: model.inputs[0].shape });
  }
  quantizeTfjs(`${OUT}tfjs/convnet`, `${OUT}tfjs/convnet-uint8`, 'uint8');
  quantizeTfjs(`${OUT}tfjs/convnet`, `${OUT}tfjs/convnet-float16`, 'float16');
  manifest.layers.push({ name: 'convnet-uint8', path: 'tfjs/convnet-uint8/model.json', inputShape: [null, 16, 16, 3] });
  manifest.layers.push({ name: 'convnet-float16', path: 'tfjs/convnet-float16/model.json', inputShape: [null, 16, 16, 3] });
  await writeKerasExtras();
  manifest.keras.push({ name: 'keras_extras', path: 'keras/keras_extras.keras', inputShape: [null, 4, 4, 3] });
  manifest.h5.push({ name: 'keras_extras', path: 'h5/keras_extras.h5', inputShape: [null, 4, 4, 3] });
  writeGraphModel(`${OUT}tfjs-graph/convnet`);
  manifest.graph.push({ name: 'convnet', path: 'tfjs-graph/convnet/model.json', inputShape: [null, 8, 8, 3] });
  writeFileSync(`${OUT}manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote fixtures to ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
