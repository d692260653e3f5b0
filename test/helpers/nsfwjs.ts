/**
 * Unwraps the nsfwjs MobileNetV2 layers model (npm nsfwjs 4.4.0, a real ImageNet-pretrained Keras backbone with
 * uint8-quantized weights) from its browserify UMD wrappers into model.json + shard files in a cache folder:
 * model.min.js exports the model.json object (or a JSON string); each group1-shardNofM.min.js exports a base64
 * string, written under the shard's name without extension (the path the weightsManifest lists).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Returns the path of the unwrapped model.json (re-used across runs from the OS temp folder). */
export function unwrapNsfwjsMobilenetV2(cacheRoot = join(tmpdir(), 'edgewise-cache')): string {
  // nsfwjs's package "exports" hide package.json; locate the package from its main entry instead.
  const main = require.resolve('nsfwjs');
  const src = join(main.slice(0, main.lastIndexOf(`${'/'}dist${'/'}`)), 'dist', 'models', 'mobilenet_v2');
  const out = join(cacheRoot, 'nsfwjs-4.4.0-mobilenet_v2');
  const modelJson = join(out, 'model.json');
  if (existsSync(modelJson)) return modelJson;
  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  for (const f of readdirSync(src).filter((n) => n.endsWith('.min.js'))) {
    let v = require(join(src, f));
    if (v && typeof v === 'object' && 'default' in v) v = v.default;
    const base = f.replace(/\.min\.js$/, '');
    if (base === 'model') writeFileSync(join(tmp, 'model.json'), typeof v === 'string' ? v : JSON.stringify(v));
    else writeFileSync(join(tmp, base), Buffer.from(String(v), 'base64'));
  }
  try {
    renameSync(tmp, out); // atomic publish: parallel test files never see a half-written folder
  } catch {
    if (!existsSync(modelJson)) throw new Error(`could not write ${out}`);
  }
  return modelJson;
}
