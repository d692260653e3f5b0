/**
 * The one Content-Security-Policy for the renderer, used by the Electron shell (header), the renderer's
 * index.html (meta tag, injected by vite.config.ts — a file:// page only honours the meta form) and the web
 * test host (header). No remote origins anywhere; scripts only from the app itself; 'wasm-unsafe-eval' lets
 * the renderer compile WebAssembly (TFLite/tfjs wasm) without allowing eval.
 * No electron import here: vite.config.ts and the test host load this file too.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
