// Builds the Svelte renderer to dist-renderer/ with relative URLs (the Electron shell loads it from file://).
// The CSP meta tag is injected from the same constant the shell and the web test host send as a header.
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { CONTENT_SECURITY_POLICY } from './main/app/csp.ts';

const cspMeta: Plugin = {
  name: 'edgewise-csp-meta',
  transformIndexHtml: () => [
    { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
  ],
};

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [svelte(), cspMeta],
  build: {
    outDir: '../dist-renderer',
    emptyOutDir: true,
    // Offline app: no modulepreload polyfill (it is an inline-able snippet we do not need in Chromium).
    modulePreload: { polyfill: false },
    target: 'chrome120',
  },
});
