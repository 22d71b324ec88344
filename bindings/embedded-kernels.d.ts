/**
 * @module embedded-kernels — the type of `import x from '../build/kernels-<variant>.wasm'` in
 * bindings/browser-embedded.ts: the file as base64 text, which scripts/bundle.mjs makes with
 * esbuild's base64 loader. Only that bundle resolves these imports.
 */
declare module '*kernels-simd.wasm' {
  const base64: string;
  export = base64;
}
declare module '*kernels-relaxed.wasm' {
  const base64: string;
  export = base64;
}
