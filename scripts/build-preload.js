#!/usr/bin/env node
// Bundles preload/preload.ts into the single CommonJS file a sandboxed Electron preload must be
// (it may only require 'electron' and a few Node built-ins). Output: dist-main/preload/preload.cjs.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  entryPoints: [`${root}preload/preload.ts`],
  outfile: `${root}dist-main/preload/preload.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['electron'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log('preload → dist-main/preload/preload.cjs');
