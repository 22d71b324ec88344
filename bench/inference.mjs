// @module bench/inference — `npm run bench:inference`: serving the seed autoencoder's encoder
// (784→64→ReLU→3 embeddings, one checkpoint) with ours (`lightning-ts/inference`, wasm) beside
// onnxruntime-web (wasm), TF.js (wasm backend, tfjs-layers) and jax-js (wasm, jit), one table of
// bundle size, cold start, steady latency and peak memory, with ratios and the goals of the
// issue "Production", item 4.
//
//   npm run bench:inference            # build, then the full run (~1-2 min on 2 busy cores)
//   node bench/inference.mjs --quick   # the harness on fewer spawns and calls (< 1 min)
//
// Fairness (what each peer runs is described at the top of bench/inference-worker.mjs; how
// bundles are sized at the top of bench/inference-bundles.mjs):
// - same weights: bench/inference-model.mjs writes one checkpoint with our main entry
//   (saveTorch), our toOnnx of its encoder for onnxruntime-web, and the same tensors read back
//   from the checkpoint as raw float32 for TF.js and jax-js;
// - same inputs: 256 Fashion-MNIST images (bench/seed-data.mjs), the same bytes for every peer;
// - agreement before any timing: every peer's embeddings of 64 images (one batch of 64, and 8
//   batches of 1) must be within 1e-4 of ours, and ours within 1e-4 of a float64 plain-JS forward;
//   otherwise the bench prints the difference and exits 1; each timed worker checks again;
// - every measurement is a fresh Node process with the same flags (none: the simd128 builds), so
//   no peer inherits another's JIT, heap or wasm memory, and peak RSS is per peer;
// - cold start: COLD fresh processes per peer that do nothing but reach the first batch-1
//   embedding; two figures, medians: in-process ms from the start of the library's import to
//   the first result, and wall ms from spawn to the first result line on the pipe (Node's own boot
//   included);
// - steady latency: RUNS processes per peer; each takes the median over its timed calls
//   (after warm-up) at batch 1 and at batch 64; the table shows the median over the runs;
// - the peers take turns in a rotated order each round, so a load change on this shared VM hits
//   all of them alike; one thread everywhere.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bundleSize } from './inference-bundles.mjs';
import { CHECK_ROWS, EMBED, prepareInferenceModel } from './inference-model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 5;
const COLD = quick ? 3 : 9;
/** batch → [warm-up calls, timed calls] per steady process */
const PLAN = quick ? { 1: [100, 400], 64: [20, 100] } : { 1: [300, 3000], 64: [60, 600] };
const TOLERANCE = 1e-4;
const KIB = 1024;

const require = createRequire(import.meta.url);
const versionOf = (name) => {
  try {
    return JSON.parse(readFileSync(join(dirname(require.resolve(name)), '..', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};
const ALL = [
  { id: 'ours', label: 'ours (lightning-ts/inference, wasm simd)', pkg: null },
  { id: 'ort', label: 'onnxruntime-web (wasm, 1 thread)', pkg: 'onnxruntime-web' },
  { id: 'tfjs', label: 'TF.js (wasm backend, layers)', pkg: '@tensorflow/tfjs-layers' },
  { id: 'jax', label: 'jax-js (wasm, jit)', pkg: '@jax-js/jax' },
];
const versions = {
  'onnxruntime-web': versionOf('onnxruntime-web'),
  '@tensorflow/tfjs-core': versionOf('@tensorflow/tfjs-core'),
  '@tensorflow/tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
  '@tensorflow/tfjs-layers': versionOf('@tensorflow/tfjs-layers'),
  '@jax-js/jax': versionOf('@jax-js/jax'),
};
const PEERS = ALL.filter((p) => p.pkg === null || versions[p.pkg] !== null);
const skipped = ALL.filter((p) => !PEERS.includes(p));

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function median(xs) {
  const s = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One worker; resolves with its JSON line and the wall ms from spawn to that line. Fails loudly. */
function runWorker(peer, mode, dir) {
  const args = JSON.stringify({ peer: peer.id, mode, dir, plan: PLAN });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(here, 'inference-worker.mjs'), args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let line = null;
    let firstLineMs = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (firstLineMs === null && out.includes('\n')) firstLineMs = performance.now() - t0;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      line = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      if (code !== 0 || line === undefined) {
        reject(
          new Error(
            `bench/inference: ${peer.id} ${mode} failed (exit ${code}):\n  ${err.trim().split('\n').slice(-6).join('\n  ')}`,
          ),
        );
        return;
      }
      resolve({ ...JSON.parse(line), spawnToResultMs: firstLineMs });
    });
  });
}

function maxDiff(a, b) {
  if (a.length !== b.length) return { diff: Number.POSITIVE_INFINITY, at: -1 };
  let diff = 0;
  let at = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) {
      diff = d;
      at = i;
    }
  }
  return { diff, at };
}

const rotated = (run) => PEERS.map((_, i) => PEERS[(i + run) % PEERS.length]);

// ---- setup
const t00 = performance.now();
console.log(
  `bench/inference: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${osType()} ${release()}, Node ${process.version}`,
);
console.log(
  `peers: ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v ?? '— (not installed)'}`)
    .join(', ')}`,
);
console.log(`load average before: ${load()}${quick ? '   (--quick: fewer spawns and calls)' : ''}`);
for (const p of skipped) console.log(`${p.label}: skipped (${p.pkg} not installed); its goals read n/a`);
const dir = mkdtempSync(join(tmpdir(), 'lightning-ts-inference-'));
let failed = false;
try {
  const model = await prepareInferenceModel(dir);
  rmSync(join(dir, 'seed.f32'), { force: true });
  console.log(
    `model: encoder 784→64→ReLU→3 (${model.params.toLocaleString('en-US')} parameters) of the seed autoencoder, manualSeed(0); model.ckpt ${(model.ckptBytes / KIB).toFixed(0)} KiB, encoder.onnx ${(model.onnxBytes / KIB).toFixed(0)} KiB`,
  );
  console.log(`inputs: ${model.source}`);

  // ---- agreement, before any timing
  const checks = new Map();
  for (const peer of PEERS) checks.set(peer.id, await runWorker(peer, 'check', dir));
  const ours = checks.get('ours');
  const vsRef = maxDiff(ours.check64, model.reference);
  const problems = [];
  if (!(vsRef.diff <= TOLERANCE))
    problems.push(
      `ours vs float64 reference: max |Δ| ${vsRef.diff} at value ${vsRef.at} (row ${Math.floor(vsRef.at / EMBED)})`,
    );
  const agreement = [`ours vs float64 reference ${vsRef.diff.toExponential(1)}`];
  for (const peer of PEERS) {
    const c = checks.get(peer.id);
    const d64 = maxDiff(c.check64, ours.check64);
    const d1 = maxDiff(c.check1, ours.check64.slice(0, c.check1.length));
    if (peer.id !== 'ours') agreement.push(`${peer.id} ${Math.max(d64.diff, d1.diff).toExponential(1)}`);
    for (const [what, d] of [
      ['batch 64', d64],
      ['batch 1', d1],
    ]) {
      if (!(d.diff <= TOLERANCE))
        problems.push(
          `${peer.id} ${what} vs ours: max |Δ| ${d.diff} at value ${d.at} (row ${Math.floor(d.at / EMBED)}); expected <= ${TOLERANCE}`,
        );
    }
  }
  if (problems.length > 0) {
    console.error(`bench/inference: outputs disagree; nothing was timed:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
    failed = true;
  } else {
    console.log(
      `agreement (max |Δ| over ${CHECK_ROWS}×${EMBED} embeddings, tolerance ${TOLERANCE}): ${agreement.join(', ')}`,
    );
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(ours.check64));
  }

  if (!failed) {
    // ---- bundle sizes
    const sizes = new Map();
    for (const peer of PEERS) sizes.set(peer.id, await bundleSize(peer.id));

    // ---- cold start
    const coldIn = new Map(PEERS.map((p) => [p.id, []]));
    const coldWall = new Map(PEERS.map((p) => [p.id, []]));
    for (let i = 0; i < COLD; i++) {
      for (const peer of rotated(i)) {
        const r = await runWorker(peer, 'cold', dir);
        coldIn.get(peer.id).push(r.coldMs);
        coldWall.get(peer.id).push(r.spawnToResultMs);
      }
    }
    console.log(
      `cold start: ${COLD} spawns per peer done (load ${load()}); in-process ms per spawn: ${PEERS.map(
        (p) =>
          `${p.id} ${coldIn
            .get(p.id)
            .map((x) => x.toFixed(0))
            .join('/')}`,
      ).join(', ')}`,
    );

    // ---- steady latency and memory
    const lat = new Map(); // `${peer}/${batch}` → [median ms per run]
    const rss = new Map(PEERS.map((p) => [p.id, []]));
    for (let run = 0; run < RUNS; run++) {
      const cells = [];
      for (const peer of rotated(run)) {
        const r = await runWorker(peer, 'steady', dir);
        for (const b of Object.keys(PLAN)) {
          const key = `${peer.id}/${b}`;
          if (!lat.has(key)) lat.set(key, []);
          lat.get(key).push(r.latencyMs[b].median);
        }
        rss.get(peer.id).push(r.maxRssKB);
        cells.push(
          `${peer.id} ${(r.latencyMs[1].median * 1000).toFixed(0)}/${(r.latencyMs[64].median * 1000).toFixed(0)} µs`,
        );
      }
      console.log(`run ${run + 1}/${RUNS} batch 1/64: ${cells.join(', ')}  (load ${load()})`);
    }

    // ---- table
    const col = {
      js: (id) => sizes.get(id).jsGz / KIB,
      wasm: (id) => sizes.get(id).wasmGz / KIB,
      total: (id) => sizes.get(id).totalGz / KIB,
      coldIn: (id) => median(coldIn.get(id)),
      coldWall: (id) => median(coldWall.get(id)),
      b1: (id) => median(lat.get(`${id}/1`)) * 1000,
      b64: (id) => median(lat.get(`${id}/64`)) * 1000,
      rss: (id) => median(rss.get(id)) / KIB,
    };
    const cols = Object.keys(col);
    const header = [
      '',
      'JS min+gz KiB',
      'wasm gz KiB',
      'total gz KiB',
      'import→1st result ms',
      'spawn→1st result ms',
      'batch 1 µs',
      'batch 64 µs',
      'peak RSS MB',
    ];
    const fmt = (x) =>
      x === null || !Number.isFinite(x) ? '—' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
    const fmtR = (x) =>
      x === null || !Number.isFinite(x) ? '—' : x < 0.1 ? `${x.toPrecision(2)}×` : `${x.toFixed(2)}×`;
    const rows = PEERS.map((p) => [p.label, ...cols.map((c) => fmt(col[c](p.id)))]);
    for (const p of PEERS.filter((q) => q.id !== 'ours'))
      rows.push([`  ours ÷ ${p.label.split(' (')[0]}`, ...cols.map((c) => fmtR(col[c]('ours') / col[c](p.id)))]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) =>
      `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(
      `\nmedians: cold start of ${COLD} spawns, latency of ${RUNS} processes × ${PLAN[1][1]} (batch 1) / ${PLAN[64][1]} (batch 64) timed calls each; every column lower is better (ratio rows: ours ÷ peer, < 1 is ours ahead)`,
    );
    console.log(line(header));
    console.log(`| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
    for (const r of rows) console.log(line(r));
    const o = sizes.get('ours');
    console.log(
      `ours' JS is dist/lightning-ts.inference.browser.js as shipped (${(o.jsRaw / KIB).toFixed(0)} KiB min); the same esbuild entry as the peers' gives ${(o.entryJsGz / KIB).toFixed(1)} KiB min+gz`,
    );
    for (const p of PEERS) {
      const s = sizes.get(p.id);
      if (s.lazyChunks > 0)
        console.log(`${p.id}: ${s.lazyChunks} lazily imported chunk(s) (other devices) not counted`);
    }

    // ---- goals (issue "Production", item 4)
    const others = PEERS.filter((p) => p.id !== 'ours').map((p) => p.id);
    const best = (c) => (others.length === 0 ? null : Math.min(...others.map((id) => col[c](id))));
    const bestName = (c) => others.reduce((a, id) => (col[c](id) < col[c](a) ? id : a), others[0]);
    const has = (id) => PEERS.some((p) => p.id === id);
    const name = (id) => ALL.find((p) => p.id === id).label.split(' (')[0];
    // [goal, ours, target, unit, what the target is, passes when]
    const goals = [
      [
        'bundle: the smallest of the four (JS+wasm gz)',
        col.total('ours'),
        best('total'),
        'KiB',
        name(bestName('total')),
        '<',
      ],
      ['bundle: JS+wasm gz under 50 KB (counted in KiB)', col.total('ours'), 50, 'KiB', 'the goal', '<'],
      [
        'cold start: the fastest, import→1st result',
        col.coldIn('ours'),
        best('coldIn'),
        'ms',
        name(bestName('coldIn')),
        '<',
      ],
      [
        'cold start: the fastest, spawn→1st result',
        col.coldWall('ours'),
        best('coldWall'),
        'ms',
        name(bestName('coldWall')),
        '<',
      ],
      ['cold start: import→1st result under 20 ms', col.coldIn('ours'), 20, 'ms', 'the goal', '<'],
      [
        'latency: batch 1 at least as fast as onnxruntime-web',
        col.b1('ours'),
        has('ort') ? col.b1('ort') : null,
        'µs',
        'onnxruntime-web',
        '≤',
      ],
    ];
    console.log('\ngoals (issue "Production", item 4):');
    for (const [goal, got, target, unit, what, op] of goals) {
      const ok = got !== null && target !== null && (op === '<' ? got < target : got <= target);
      const verdict = got === null || target === null ? 'n/a' : ok ? 'MET' : 'NOT MET';
      console.log(
        `  ${verdict.padEnd(8)} ${goal}: ours ${fmt(got)} ${unit}, needs ${op} ${fmt(target)} ${unit} (${what})`,
      );
    }
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nload average after: ${load()}; bench took ${((performance.now() - t00) / 1000).toFixed(0)} s`);
