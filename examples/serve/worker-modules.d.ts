/**
 * @module examples/serve/worker-modules — the types of the worker's two non-JS modules (workerd's
 * CompiledWasm and Data module kinds).
 */
declare module '*/kernels.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*/weights.bin' {
  const bytes: ArrayBuffer;
  export default bytes;
}
