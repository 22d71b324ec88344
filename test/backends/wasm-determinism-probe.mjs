// @module wasm-determinism-probe — prints a hash of kernel outputs for the determinism test.
// Hashes the simd build's outputs (transcendentals, an activation gradient, matmul) so a
// test can compare runtimes bit for bit. Usage: node|deno run --allow-read this-file <kernels.wasm>
const path = typeof Deno !== 'undefined' ? Deno.args[0] : process.argv[2];
const bytes = typeof Deno !== 'undefined' ? Deno.readFileSync(path) : (await import('node:fs')).readFileSync(path);
const { instance } = await WebAssembly.instantiate(bytes, {});
const e = instance.exports;
e.memory.grow(64);
const i32 = new Int32Array(e.memory.buffer),
  f32 = new Float32Array(e.memory.buffer);
const D = 65536,
  X = D + 1024,
  O = X + 400000,
  n = 50000;
let h = 0;
const names = [
  'exp_f32',
  'log_f32',
  'tanh_f32',
  'sigmoid_f32',
  'gelu_f32',
  'gelu_tanh_f32',
  'silu_f32',
  'unary_backward_gelu_f32',
];
for (const name of names) {
  for (let i = 0; i < n; i++) f32[X / 4 + i] = Math.sin(i * 0.37) * 20;
  i32.fill(0, D / 4, D / 4 + 120);
  i32[D / 4] = 1;
  i32[D / 4 + 1] = O;
  i32[D / 4 + 2] = X;
  i32[D / 4 + 3] = X;
  i32[D / 4 + 5] = n;
  i32[D / 4 + 37] = 4;
  i32[D / 4 + 53] = 4;
  i32[D / 4 + 69] = 4;
  e[name](D, 1, 1, 20);
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + i32[O / 4 + i]) | 0;
}
const M = 67,
  K = 129,
  N = 71,
  A = X,
  B = A + M * K * 4,
  C = B + K * N * 4,
  W = C + M * N * 4 + 64;
for (let i = 0; i < M * K + K * N; i++) f32[A / 4 + i] = Math.cos(i);
i32.set([1, M, N, K, A, 0, K * 4, 4, B, 0, N * 4, 4, C, 0, W], D / 4);
e.matmul_f32(D);
for (let i = 0; i < M * N; i++) h = (Math.imul(h, 31) + i32[C / 4 + i]) | 0;
console.log('hash', h >>> 0);
