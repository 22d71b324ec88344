// @module bench/gpu — the WebGPU backend on a real GPU (an NVIDIA H100 through Node, Dawn and
// the NVIDIA Vulkan driver), side by side with PyTorch CUDA (bench/gpu_torch.py) by bench/gpu.sh.
//
// What it measures, all float32 and all through the library's own code paths:
// - matmul: `backend.run('matmul')` on n×n @ n×n for n = 1024, 2048, 4096, 8192, in TFLOP/s
//   (2n³ per product). Each run records `iters` products back to back and ends with
//   `backend.flush()` (submit, then `queue.onSubmittedWorkDone()`); the time per product is
//   the run's wall time / iters, iters chosen so a run lasts about 0.3 s; the median of 5 runs;
//   then each tile configuration of kernels/matmul.ts forced in turn (the shape heuristic's data);
// - matmul GEMV-like: [m, n] @ [n, n] for m = 1 and 4 (matmul.ts's SUBGROUP_MAX_M), the
//   tiled kernel (pickTileConfig's tile) and, where the device has subgroups, the subgroup
//   kernel, each forced, in GFLOP/s (the data for useSubgroupKernel's rule);
// - seed: the seed autoencoder (784→64→ReLU→3 / 3→64→ReLU→784, mse, Adam lr 1e-3) trained
//   through the tensor API (nn, F, optim, tidy) on the webgpu backend at batch 256 and 4096;
//   the data is 8 random batches resident on the GPU, used in turn (x.narrow, no copy); no
//   readback per step; warm-up steps, then N timed steps closed by `backend.flush()`; samples/s;
// - mlp: a wide MLP, 784→4096→ReLU→4096→ReLU→10, cross-entropy on random labels, Adam lr 1e-3,
//   batch 1024 (chosen: wide enough that the three matmuls per layer dominate a step, about
//   123 GFLOP per step, so it shows whether the matmul speed survives training); ms per step.
//
// Usage (bench/gpu.sh does all of this):
//   node bench/gpu.mjs [--smoke] [--out ours.json]     run and write the results as JSON
//   node bench/gpu.mjs --table ours.json [torch.json]  print the side-by-side table
// It loads the transpiled runtime and the `webgpu` package from $LTS_RT (default .devcarry/rt,
// filled by bench/gpu-prepare.sh), so the device machine needs no npm install. --smoke runs
// tiny sizes and accepts a software adapter (SwiftShader), to prove the pipeline end to end.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flagValue = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** The sizes of each mode; bench/gpu_torch.py reads them from our JSON (`config`). */
const CONFIGS = {
  full: {
    matmul: [1024, 2048, 4096, 8192],
    matmulRuns: 5,
    matmulRunMs: 300,
    seed: [
      { batch: 256, warmup: 30, steps: 300 },
      { batch: 4096, warmup: 10, steps: 100 },
    ],
    mlp: { hidden: 4096, batch: 1024, warmup: 5, steps: 30 },
    batches: 8,
  },
  smoke: {
    matmul: [64, 128],
    matmulRuns: 2,
    matmulRunMs: 20,
    seed: [
      { batch: 16, warmup: 1, steps: 3 },
      { batch: 64, warmup: 1, steps: 2 },
    ],
    mlp: { hidden: 128, batch: 32, warmup: 1, steps: 2 },
    batches: 2,
  },
};

/** Dawn's GPU object; held at module level, since Dawn's instance dies (and takes the device down) once it is collected. */
let dawnGpu;

if (argv[0] === '--table') {
  printTable(
    JSON.parse(readFileSync(argv[1], 'utf8')),
    argv[2] !== undefined && existsSync(argv[2]) ? JSON.parse(readFileSync(argv[2], 'utf8')) : undefined,
  );
} else {
  await run();
}

async function run() {
  const smoke = argv.includes('--smoke');
  const config = CONFIGS[smoke ? 'smoke' : 'full'];
  const rt = process.env.LTS_RT ?? join(root, '.devcarry', 'rt');
  const webgpuIndex = join(rt, 'node_modules', 'webgpu', 'index.js');
  if (!existsSync(join(rt, 'runtime', 'index.js')) || !existsSync(webgpuIndex)) {
    throw new Error(
      `bench/gpu: transpiled runtime or webgpu package missing; expected ${rt}/runtime/index.js and ${webgpuIndex} (run bench/gpu-prepare.sh), got neither or one`,
    );
  }
  const load = (p) => import(pathToFileURL(join(rt, p)).href);

  // Dawn's GPU, with the WebGPU globals (GPUBufferUsage, ...) where runtime/ expects them.
  const dawn = await import(pathToFileURL(webgpuIndex).href);
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) globalThis[k] = v;
  const { requestGpuDevice } = await load('runtime/backends/webgpu/device.js');
  const { createWebGPUBackend } = await load('runtime/backends/webgpu/backend.js');
  const { MATMUL_TILE_CONFIGS, SUBGROUP_MAX_M, matmulLaunches, pickTileConfig } = await load(
    'runtime/backends/webgpu/kernels/matmul.js',
  );
  const lib = await load('runtime/index.js');
  dawnGpu = dawn.create([]);
  const handle = await requestGpuDevice(
    {
      gpu: dawnGpu,
      tried: [
        `webgpu package (Dawn) from ${webgpuIndex}; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'} VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? '(unset)'}`,
      ],
    },
    { powerPreference: 'high-performance', ...(smoke ? { allowFallbackAdapter: true } : {}) },
  );
  const backend = createWebGPUBackend({ device: handle.device });
  lib.setDefaultBackend(backend);
  const info = handle.adapterInfo;
  const device = [info.description, info.vendor, info.architecture].filter((s) => s).join(' / ') || 'unknown adapter';
  console.log(
    `bench/gpu: ${device}${handle.isFallbackAdapter ? ' (software fallback adapter)' : ''}; shader-f16 ${handle.features.f16}, subgroups ${handle.features.subgroups}; mode ${smoke ? 'smoke' : 'full'}`,
  );
  const result = {
    mode: smoke ? 'smoke' : 'full',
    config,
    device,
    fallbackAdapter: handle.isFallbackAdapter,
    node: process.version,
    matmul: [],
    matmulTiles: [],
    matmulGemv: [],
    seed: [],
    mlp: null,
  };
  // The kernels of matmul.ts to check and time, forced: each tile config, and the subgroup kernel where the device has subgroups.
  const kernels = [
    ...MATMUL_TILE_CONFIGS.map(({ name }) => ({ name, tuning: { kernel: 'tiled', tile: name } })),
    ...(handle.features.subgroups ? [{ name: 'subgroup', tuning: { kernel: 'subgroup' } }] : []),
  ];

  // ---- matmul: first correctness on this GPU (every tile config × layout, odd and aligned
  // shapes, against a float64 product here), then speed.
  {
    let checked = 0;
    for (const [m, k, n] of [
      [67, 45, 71],
      [64, 96, 128],
      [3, 45, 71],
      [1, 96, 128],
    ]) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const av = new Float32Array(m * k).map((_, i) => ((i * 7919) % 201) / 100 - 1);
        const bv = new Float32Array(k * n).map((_, i) => ((i * 104729) % 199) / 100 - 1);
        const ah = backend.alloc('float32', m * k);
        const bh = backend.alloc('float32', k * n);
        const oh = backend.alloc('float32', m * n);
        backend.write(ah, av);
        backend.write(bh, bv);
        // Transposed operands are stored [K, M] / [N, K] and read through strides.
        const aAt = (i, p) => (ta ? av[p * m + i] : av[i * k + p]);
        const bAt = (p, j) => (tb ? bv[j * k + p] : bv[p * n + j]);
        const aView = {
          buffer: backend.gpuBuffer(ah),
          dtype: 'float32',
          shape: [1, m, k],
          strides: [m * k, ta ? 1 : k, ta ? m : 1],
          offset: 0,
        };
        const bView = {
          buffer: backend.gpuBuffer(bh),
          dtype: 'float32',
          shape: [1, k, n],
          strides: [k * n, tb ? 1 : n, tb ? k : 1],
          offset: 0,
        };
        const oView = {
          buffer: backend.gpuBuffer(oh),
          dtype: 'float32',
          shape: [1, m, n],
          strides: [m * n, n, 1],
          offset: 0,
        };
        for (const { name, tuning } of kernels) {
          backend.launch(matmulLaunches(backend.kernelContext, oView, [aView, bView], {}, tuning));
          const got = await backend.read(oh, 0, m * n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let want = 0;
              for (let p = 0; p < k; p++) want += aAt(i, p) * bAt(p, j);
              const g = got[i * n + j];
              if (!(Math.abs(g - want) <= 1e-5 * Math.abs(want) + 2e-7 * k)) {
                throw new Error(
                  `bench/gpu: matmul tile ${name} ${m}x${k}x${n} ta=${ta} tb=${tb} wrong at [${i},${j}]; expected ${want}, got ${g}`,
                );
              }
            }
          }
          checked++;
        }
        for (const h of [ah, bh, oh]) backend.free(h);
      }
    }
    console.log(
      `matmul: ${checked} kernel × layout × shape cases (kernels ${kernels.map((x) => x.name).join(', ')}) match a float64 product on this GPU`,
    );
  }

  // ---- matmul speed
  const fillRandom = (n, seed) => {
    const a = new Float32Array(n);
    let s = seed >>> 0;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = s / 4294967296 - 0.5;
    }
    return a;
  };
  const view = (buffer, shape) => ({
    buffer,
    dtype: 'float32',
    shape,
    strides: [shape[1] * shape[2], shape[2], 1],
    offset: 0,
  });
  for (const n of config.matmul) {
    const a = backend.alloc('float32', n * n);
    const b = backend.alloc('float32', n * n);
    const c = backend.alloc('float32', n * n);
    backend.write(a, fillRandom(n * n, 1));
    backend.write(b, fillRandom(n * n, 2));
    const call = () => backend.run('matmul', view(c, [1, n, n]), [view(a, [1, n, n]), view(b, [1, n, n])], {});
    call();
    await backend.flush(); // compiles the pipeline
    let t0 = performance.now();
    call();
    await backend.flush();
    const one = performance.now() - t0;
    const iters = Math.max(2, Math.min(500, Math.round(config.matmulRunMs / Math.max(one, 1e-3))));
    const times = [];
    for (let r = 0; r < config.matmulRuns; r++) {
      t0 = performance.now();
      for (let i = 0; i < iters; i++) call();
      await backend.flush();
      times.push((performance.now() - t0) / iters);
    }
    // A sanity check that the products are real: one output element against a float64 dot.
    const [got] = await backend.read(c, 0, 1);
    const av = await backend.read(a, 0, n);
    const bv = await backend.read(b, 0, n * n);
    let want = 0;
    for (let k = 0; k < n; k++) want += av[k] * bv[k * n];
    if (!(Math.abs(got - want) <= 1e-3 * Math.max(1, Math.abs(want)))) {
      throw new Error(`bench/gpu: matmul ${n} gave a wrong c[0,0]; expected ${want}, got ${got}`);
    }
    const ms = median(times);
    const row = {
      n,
      ms,
      tflops: (2 * n ** 3) / (ms * 1e-3) / 1e12,
      iters,
      runs: config.matmulRuns,
      tile: pickTileConfig(1, n, n).name,
    };
    result.matmul.push(row);
    console.log(
      `matmul ${n}: ${row.tflops.toPrecision(3)} TFLOP/s (${ms.toFixed(3)} ms per product, median of ${row.runs} runs of ${iters}; tile ${row.tile})`,
    );
    // Every tile configuration at this size, forced (the data to tune pickTileConfig with).
    const gv = (h) => ({ ...view(backend.gpuBuffer(h), [1, n, n]) });
    for (const { name } of MATMUL_TILE_CONFIGS) {
      const launches = matmulLaunches(
        backend.kernelContext,
        gv(c),
        [gv(a), gv(b)],
        {},
        { kernel: 'tiled', tile: name },
      );
      backend.launch(launches);
      await backend.flush();
      const tt = [];
      for (let r = 0; r < config.matmulRuns; r++) {
        const t1 = performance.now();
        for (let i = 0; i < iters; i++) backend.launch(launches);
        await backend.flush();
        tt.push((performance.now() - t1) / iters);
      }
      const tms = median(tt);
      result.matmulTiles.push({ n, tile: name, ms: tms, tflops: (2 * n ** 3) / (tms * 1e-3) / 1e12 });
      console.log(`  tile ${name}: ${((2 * n ** 3) / (tms * 1e-3) / 1e12).toPrecision(3)} TFLOP/s`);
    }
    for (const h of [a, b, c]) backend.free(h);
  }

  // ---- matmul GEMV-like: few rows, where the subgroup kernel is chosen when the device has subgroups
  for (const n of config.matmul) {
    for (const m of [1, SUBGROUP_MAX_M]) {
      const a = backend.alloc('float32', m * n);
      const b = backend.alloc('float32', n * n);
      const c = backend.alloc('float32', m * n);
      backend.write(a, fillRandom(m * n, 3));
      backend.write(b, fillRandom(n * n, 4));
      const av = view(backend.gpuBuffer(a), [1, m, n]);
      const bv = view(backend.gpuBuffer(b), [1, n, n]);
      const cv = view(backend.gpuBuffer(c), [1, m, n]);
      const tile = pickTileConfig(1, m, n).name;
      const gemvKernels = [
        { name: `tiled ${tile}`, tuning: { kernel: 'tiled', tile } },
        ...kernels.filter((x) => x.name === 'subgroup'),
      ];
      for (const { name, tuning } of gemvKernels) {
        const launches = matmulLaunches(backend.kernelContext, cv, [av, bv], {}, tuning);
        backend.launch(launches);
        await backend.flush();
        let t0 = performance.now();
        backend.launch(launches);
        await backend.flush();
        const iters = Math.max(
          2,
          Math.min(2000, Math.round(config.matmulRunMs / Math.max(performance.now() - t0, 1e-3))),
        );
        const tt = [];
        for (let r = 0; r < config.matmulRuns; r++) {
          t0 = performance.now();
          for (let i = 0; i < iters; i++) backend.launch(launches);
          await backend.flush();
          tt.push((performance.now() - t0) / iters);
        }
        // c[0, 0] against a float64 dot, so a fast wrong kernel cannot post a number.
        const [got] = await backend.read(c, 0, 1);
        const arow = await backend.read(a, 0, n);
        const ball = await backend.read(b, 0, n * n);
        let want = 0;
        for (let k = 0; k < n; k++) want += arow[k] * ball[k * n];
        if (!(Math.abs(got - want) <= 1e-3 * Math.max(1, Math.abs(want)))) {
          throw new Error(
            `bench/gpu: matmul ${m}x${n}@${n}x${n} (${name}) gave a wrong c[0,0]; expected ${want}, got ${got}`,
          );
        }
        const ms = median(tt);
        const row = { m, n, kernel: name, ms, gflops: (2 * m * n * n) / (ms * 1e-3) / 1e9, iters };
        result.matmulGemv.push(row);
        console.log(
          `matmul ${m}x${n}@${n}x${n} ${name}: ${row.gflops.toPrecision(3)} GFLOP/s (${ms.toFixed(4)} ms, median of ${config.matmulRuns} runs of ${iters})`,
        );
      }
      for (const h of [a, b, c]) backend.free(h);
    }
  }

  // ---- training loops through the tensor API
  const { nn, F, optim } = lib;
  const train = async (label, makeModel, batch, warmup, steps, lossOf) => {
    lib.manualSeed(0);
    const model = makeModel();
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const data = lib.keep(lib.rand([config.batches * batch, 784]));
    const labels = lib.keep(lib.randint(0, 10, [config.batches * batch]));
    const step = (i) =>
      lib.tidy(() => {
        const at = (i % config.batches) * batch;
        const loss = lossOf(model, data.narrow(0, at, batch), labels.narrow(0, at, batch));
        loss.backward();
        opt.step();
        opt.zeroGrad();
      });
    for (let i = 0; i < warmup; i++) step(i);
    await backend.flush();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step(i);
    await backend.flush();
    const ms = performance.now() - t0;
    const loss = await lib.tidy(() => lossOf(model, data.narrow(0, 0, batch), labels.narrow(0, 0, batch))).item();
    if (!Number.isFinite(loss)) throw new Error(`bench/gpu: ${label} diverged; expected a finite loss, got ${loss}`);
    data.dispose();
    labels.dispose();
    return { batch, steps, ms, msPerStep: ms / steps, samplesPerSec: (steps * batch * 1000) / ms, finalLoss: loss };
  };

  const seedModel = () => {
    const m = new nn.Module();
    m.encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
    m.decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 784));
    return m;
  };
  for (const s of config.seed) {
    const row = await train('seed', seedModel, s.batch, s.warmup, s.steps, (m, x) =>
      F.mseLoss(m.decoder.forward(m.encoder.forward(x)), x),
    );
    result.seed.push(row);
    console.log(
      `seed batch ${s.batch}: ${Math.round(row.samplesPerSec)} samples/s (${row.msPerStep.toFixed(3)} ms per step over ${s.steps} steps; loss ${row.finalLoss.toFixed(4)})`,
    );
  }
  const { hidden, batch, warmup, steps } = config.mlp;
  const mlpModel = () =>
    new nn.Sequential(
      new nn.Linear(784, hidden),
      new nn.ReLU(),
      new nn.Linear(hidden, hidden),
      new nn.ReLU(),
      new nn.Linear(hidden, 10),
    );
  const mlp = await train('mlp', mlpModel, batch, warmup, steps, (m, x, y) => F.crossEntropy(m.forward(x), y));
  result.mlp = { hidden, ...mlp };
  console.log(
    `mlp 784-${hidden}-${hidden}-10 batch ${batch}: ${mlp.msPerStep.toFixed(3)} ms per step (${Math.round(mlp.samplesPerSec)} samples/s over ${steps} steps)`,
  );
  console.log(`backend stats: ${JSON.stringify(backend.stats())}`);

  const out = flagValue('--out');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2));
  backend.dispose();
  handle.device.destroy();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The side-by-side table; ratio > 1 means ours is faster. */
function printTable(ours, torch) {
  const rows = [];
  const fmt = (x, digits) => (x === undefined || x === null ? '—' : x.toFixed(digits));
  const sig = (x) => (x === undefined || x === null ? '—' : x.toPrecision(3));
  const ratio = (o, t, higherIsBetter) =>
    o == null || t == null ? '—' : (higherIsBetter ? o / t : t / o).toFixed(2) + '×';
  const find = (list, key, v) => (list ?? []).find((r) => r[key] === v);
  for (const m of ours.matmul) {
    const t = find(torch?.matmul, 'n', m.n);
    rows.push([`f32 matmul ${m.n}³ (TFLOP/s)`, sig(m.tflops), sig(t?.tflops), ratio(m.tflops, t?.tflops, true)]);
  }
  for (const s of ours.seed) {
    const t = find(torch?.seed, 'batch', s.batch);
    rows.push([
      `seed autoencoder, batch ${s.batch} (samples/s)`,
      fmt(s.samplesPerSec, 0),
      fmt(t?.samplesPerSec, 0),
      ratio(s.samplesPerSec, t?.samplesPerSec, true),
    ]);
  }
  if (ours.mlp !== null) {
    const t = torch?.mlp;
    rows.push([
      `MLP 784-${ours.mlp.hidden}-${ours.mlp.hidden}-10, batch ${ours.mlp.batch} (ms/step)`,
      fmt(ours.mlp.msPerStep, 3),
      fmt(t?.msPerStep, 3),
      ratio(ours.mlp.msPerStep, t?.msPerStep, false),
    ]);
  }
  const torchHead =
    torch === undefined || torch.skipped || torch.cuda
      ? 'PyTorch CUDA fp32, TF32 off'
      : 'PyTorch on the CPU (script check only)';
  const head = ['', 'lightning-ts webgpu', torchHead, 'ours vs torch (>1 = ours faster)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nGPU benchmark (${ours.mode}): ours on ${ours.device}; torch ${torch === undefined ? 'not run' : torch.skipped ? `skipped (${torch.skipped})` : `${torch.torch} on ${torch.device}`}`,
  );
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
