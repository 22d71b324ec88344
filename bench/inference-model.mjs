// @module bench/inference-model — the one checkpoint every peer of bench/inference.mjs serves,
// written once per run by our main entry (dist/lightning-ts.node.js), in the format each peer reads:
// - model.ckpt: `saveTorch({ state_dict })` of the seed autoencoder (bench/seed-model.mjs,
//   784→64→ReLU→3 / 3→64→ReLU→784, torch's init bounds, manualSeed(0)); ours loads it with
//   `loadWeights(encoder, bytes, { prefix: 'encoder.' })`;
// - encoder.onnx: `model.encoder.toOnnx(sample)` with a dynamic batch axis, for onnxruntime-web;
// - weights.f32 + weights.json: the encoder's four tensors read back from model.ckpt (by our
//   `loadTorch`), raw float32 in torch's layout (Linear weight [out, in]), for TF.js layers and
//   jax-js, which transpose the kernels to [in, out] themselves;
// - inputs.f32: ROWS images from bench/seed-data.mjs (Fashion-MNIST when installed), pixels /255;
// - reference: the embeddings of the first CHECK_ROWS images computed here in float64 plain JS
//   from the same tensors, so ours is checked too, not only the peers against ours.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, readSeedData, writeSeedData } from './seed-data.mjs';

export const ROWS = 256; // resident input rows; batch b takes the next b rows, wrapping
export const CHECK_ROWS = 64; // rows of the agreement check (one batch of 64)
export const HIDDEN = 64;
export const EMBED = 3;
export const TENSORS = ['0.weight', '0.bias', '2.weight', '2.bias']; // the encoder's, in this order

/** Writes the files above into `dir`; returns a description and the float64 reference embeddings. */
export async function prepareInferenceModel(dir) {
  const lt = await import('lightning-ts');
  const { LitAutoEncoder } = await import('./seed-model.mjs');
  const seedPath = join(dir, 'seed.f32');
  const source = await writeSeedData(seedPath);
  const inputs = readSeedData(seedPath, ROWS);
  writeFileSync(join(dir, 'inputs.f32'), inputs);

  lt.manualSeed(0);
  const model = new LitAutoEncoder();
  model.eval();
  const ckpt = await lt.saveTorch({ state_dict: model.stateDict(), epoch: 0, global_step: 0 });
  writeFileSync(join(dir, 'model.ckpt'), ckpt);
  const onnx = await model.encoder.toOnnx(lt.randn([1, FEATURES]), {
    dynamicAxes: { input: { 0: 'batch' }, output: { 0: 'batch' } },
  });
  writeFileSync(join(dir, 'encoder.onnx'), onnx);

  // the peers' weights come from the checkpoint's bytes, not from the live model
  const loaded = await lt.loadTorch(readFileSync(join(dir, 'model.ckpt')));
  const state = loaded.state_dict instanceof Map ? loaded.state_dict : new Map(Object.entries(loaded.state_dict));
  const header = {};
  const parts = [];
  let offset = 0;
  for (const name of TENSORS) {
    const t = state.get(`encoder.${name}`);
    if (t === undefined) throw new Error(`bench/inference-model: encoder.${name} missing from model.ckpt`);
    const values = Float32Array.from(await t.data());
    header[name] = { shape: [...t.shape], offset };
    parts.push(values);
    offset += values.length;
  }
  const flat = new Float32Array(offset);
  offset = 0;
  for (const p of parts) {
    flat.set(p, offset);
    offset += p.length;
  }
  writeFileSync(join(dir, 'weights.f32'), flat);
  writeFileSync(join(dir, 'weights.json'), JSON.stringify(header));
  const reference = referenceEmbeddings(readWeights(dir), inputs.subarray(0, CHECK_ROWS * FEATURES), CHECK_ROWS);
  return {
    source,
    ckptBytes: ckpt.length,
    onnxBytes: onnx.length,
    params: flat.length,
    reference,
  };
}

/** The encoder's tensors from weights.f32: name → { shape, data } (torch layout). */
export function readWeights(dir) {
  const header = JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'weights.f32'));
  const flat = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const out = {};
  for (const name of TENSORS) {
    const { shape, offset } = header[name];
    out[name] = { shape, data: flat.subarray(offset, offset + shape.reduce((a, b) => a * b, 1)) };
  }
  return out;
}

/** The resident input rows (ROWS × 784 float32). */
export function readInputs(dir) {
  const buf = readFileSync(join(dir, 'inputs.f32'));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** A torch-layout [out, in] weight as the [in, out] kernel TF.js Dense and x·W take. */
export function transposed({ shape: [rows, cols], data }) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** z = W2·relu(W1·x + b1) + b2 per row, in float64: the living definition the peers are held to. */
function referenceEmbeddings(w, x, n) {
  const W1 = w['0.weight'].data;
  const b1 = w['0.bias'].data;
  const W2 = w['2.weight'].data;
  const b2 = w['2.bias'].data;
  const z = new Float64Array(n * EMBED);
  const h = new Float64Array(HIDDEN);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < HIDDEN; j++) {
      let s = b1[j];
      for (let i = 0; i < FEATURES; i++) s += W1[j * FEATURES + i] * x[r * FEATURES + i];
      h[j] = s > 0 ? s : 0;
    }
    for (let k = 0; k < EMBED; k++) {
      let s = b2[k];
      for (let j = 0; j < HIDDEN; j++) s += W2[k * HIDDEN + j] * h[j];
      z[r * EMBED + k] = s;
    }
  }
  return z;
}
