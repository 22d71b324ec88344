/**
 * @module examples/browser/page — the live training page: controls, charts and downloads.
 *
 * Training runs in worker.ts; this thread only draws, so it stays responsive. The page's
 * state is on `window.__demo` (see {@link DemoState}) for tests and the curious.
 */
import type { Accelerator, ErrorReport, FromWorker, ToWorker, Visuals } from './protocol.ts';

/** What the page knows, exposed as `window.__demo`. */
export interface DemoState {
  ready: boolean;
  training: boolean;
  step: number;
  epoch: number;
  /** Every [global step, loss] pair received. */
  losses: [number, number][];
  /** requestAnimationFrame callbacks run: it keeps rising while the main thread is free. */
  frames: number;
  /** Picture updates drawn. */
  visuals: number;
  isolated: boolean;
  /** Isolation headers the page's own response lacked. */
  missingHeaders: string[];
  gpu: { adapter: string | null; reason: string } | null;
  error: ErrorReport | null;
  loaded: { name: string; step: number; resumes: boolean } | null;
  /** The last finished run. */
  done: { step: number; stopped: boolean; backend: string; checkpoint: string | null } | null;
  /** Names of the files handed to the browser as downloads. */
  downloads: string[];
}

const state: DemoState = {
  ready: false,
  training: false,
  step: 0,
  epoch: 0,
  losses: [],
  frames: 0,
  visuals: 0,
  isolated: globalThis.crossOriginIsolated,
  missingHeaders: [],
  gpu: null,
  error: null,
  loaded: null,
  done: null,
  downloads: [],
};
(globalThis as { __demo?: DemoState }).__demo = state;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`demo page: no #${id}; expected the element in index.html, got none`);
  return el as T;
}

const ui = {
  isolation: $<HTMLParagraphElement>('isolation'),
  accelerator: $<HTMLSelectElement>('accelerator'),
  steps: $<HTMLInputElement>('steps'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  downloadCkpt: $<HTMLButtonElement>('download-ckpt'),
  downloadEvents: $<HTMLButtonElement>('download-events'),
  file: $<HTMLInputElement>('ckpt-file'),
  gpuNote: $<HTMLDivElement>('gpu-note'),
  status: $<HTMLDivElement>('status'),
  notice: $<HTMLDivElement>('notice'),
  error: $<HTMLDivElement>('error'),
  loss: $<HTMLCanvasElement>('loss'),
  reconstructions: $<HTMLCanvasElement>('reconstructions'),
  samples: $<HTMLCanvasElement>('samples'),
  scatter: $<HTMLCanvasElement>('scatter'),
  legend: $<HTMLDivElement>('legend'),
};

/** Tableau 10, one colour per digit. */
const COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
const BACKGROUND = '#ffffff';
const DIGIT_SCALE = 2;

// ---------------------------------------------------------------- drawing

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('demo page: no 2-D canvas context; expected one, got null');
  return ctx;
}

/** Rows of 28×28 images (values in [0, 1], white on black), nearest-neighbour scaled. */
function drawDigits(canvas: HTMLCanvasElement, rows: readonly Float32Array[]): void {
  const ctx = context(canvas);
  const image = ctx.createImageData(canvas.width, canvas.height);
  const cell = 28 * DIGIT_SCALE;
  const perRow = Math.floor(canvas.width / cell);
  rows.forEach((pixels, r) => {
    const count = Math.min(perRow, pixels.length / 784);
    for (let k = 0; k < count; k++) {
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const v = pixels[k * 784 + Math.floor(y / DIGIT_SCALE) * 28 + Math.floor(x / DIGIT_SCALE)]!;
          const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
          const at = ((r * cell + y) * canvas.width + k * cell + x) * 4;
          image.data[at] = image.data[at + 1] = image.data[at + 2] = g;
          image.data[at + 3] = 255;
        }
      }
    }
  });
  ctx.putImageData(image, 0, 0);
}

function drawLoss(): void {
  const canvas = ui.loss;
  const ctx = context(canvas);
  const { width, height } = canvas;
  const pad = { left: 52, right: 10, top: 10, bottom: 24 };
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
  const points = state.losses;
  if (points.length === 0) return;
  const steps = points.map((p) => p[0]);
  const values = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)];
  const [y0, y1] = [0, Math.max(...values) * 1.05 || 1];
  const px = (s: number) => pad.left + ((s - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const py = (v: number) => height - pad.bottom - ((v - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  ctx.fillStyle = '#444';
  ctx.font = '11px sans-serif';
  ctx.textAlign = 'right';
  for (const v of [y0, (y0 + y1) / 2, y1]) ctx.fillText(v.toFixed(3), pad.left - 4, py(v) + 4);
  ctx.textAlign = 'center';
  ctx.fillText(`step ${x0}`, pad.left + 24, height - 8);
  ctx.fillText(`step ${x1}`, width - pad.right - 28, height - 8);
  ctx.strokeStyle = '#e15759';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.forEach(([s, v], i) => (i === 0 ? ctx.moveTo(px(s), py(v)) : ctx.lineTo(px(s), py(v))));
  ctx.stroke();
}

let scatterLabels: Uint8Array = new Uint8Array(0);

/**
 * The mean and the two principal axes of 3-D points: power iteration on the 3×3 covariance,
 * then again after deflating the first axis. The scatter shows the points on these axes, the
 * flat view of the cloud that keeps most of its spread.
 */
function principalAxes(points: Float32Array): { mean: number[]; axes: [number[], number[]] } {
  const n = points.length / 3;
  const mean = [0, 1, 2].map((k) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += points[3 * i + k]!;
    return sum / Math.max(n, 1);
  });
  const cov = [0, 1, 2].map((a) =>
    [0, 1, 2].map((b) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (points[3 * i + a]! - mean[a]!) * (points[3 * i + b]! - mean[b]!);
      return sum / Math.max(n, 1);
    }),
  );
  const leading = (m: number[][], start: number[]): { v: number[]; lambda: number } => {
    let v = start;
    let lambda = 0;
    for (let iter = 0; iter < 64; iter++) {
      const w = m.map((row) => row[0]! * v[0]! + row[1]! * v[1]! + row[2]! * v[2]!);
      lambda = Math.hypot(...w);
      if (lambda === 0) return { v: start, lambda: 0 };
      v = w.map((x) => x / lambda);
    }
    return { v, lambda };
  };
  const first = leading(cov, [1, 0.6, 0.3]);
  const deflated = cov.map((row, a) => row.map((x, b) => x - first.lambda * first.v[a]! * first.v[b]!));
  // Start the second search orthogonal to the first axis.
  const e = Math.abs(first.v[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const dot = e[0]! * first.v[0]! + e[1]! * first.v[1]! + e[2]! * first.v[2]!;
  const start = e.map((x, k) => x - dot * first.v[k]!);
  const second = leading(
    deflated,
    start.map((x) => x / (Math.hypot(...start) || 1)),
  );
  return { mean, axes: [first.v, second.v] };
}

function drawScatter(embeddings: Float32Array): void {
  const canvas = ui.scatter;
  const ctx = context(canvas);
  const { width, height } = canvas;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  const n = embeddings.length / 3;
  const { mean, axes } = principalAxes(embeddings);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const c = embeddings[3 * i + k]! - mean[k]!;
      xs[i]! += c * axes[0][k]!;
      ys[i]! += c * axes[1][k]!;
    }
  }
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  const pad = 10;
  const sx = (width - 2 * pad) / (xMax - xMin || 1);
  const sy = (height - 2 * pad) / (yMax - yMin || 1);
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = COLOURS[scatterLabels[i] ?? 0]!;
    ctx.fillRect(pad + (xs[i]! - xMin) * sx - 2, height - pad - (ys[i]! - yMin) * sy - 2, 4, 4);
  }
}

let originals: Float32Array = new Float32Array(0);

function drawVisuals(v: Visuals): void {
  drawDigits(ui.reconstructions, [originals, v.reconstructions]);
  drawDigits(ui.samples, [v.samples]);
  drawScatter(v.embeddings);
  state.visuals++;
}

// ---------------------------------------------------------------- status

function setControls(): void {
  const idle = state.ready && !state.training;
  ui.train.disabled = !idle;
  ui.stop.disabled = !state.training;
  ui.file.disabled = !idle;
  ui.downloadCkpt.disabled = !idle || (state.done?.checkpoint ?? state.loaded?.name ?? null) === null;
  ui.downloadEvents.disabled = !idle || state.done === null;
  ui.accelerator.disabled = !idle;
}

function showError(report: ErrorReport | null): void {
  state.error = report;
  ui.error.replaceChildren();
  if (report === null) return;
  const title = document.createElement('strong');
  title.textContent = `${report.name} (${report.during})`;
  const message = document.createElement('div');
  message.textContent = report.message;
  ui.error.append(title, message);
  const lists: [string, readonly string[]][] = [
    ['missing keys (the model has them, the file does not)', report.missingKeys],
    ['unexpected keys (the file has them, the model does not)', report.unexpectedKeys],
    ['keys whose shapes differ', report.mismatchedKeys],
  ];
  for (const [label, keys] of lists) {
    if (keys.length === 0) continue;
    const heading = document.createElement('div');
    heading.textContent = `${label}:`;
    const list = document.createElement('ul');
    for (const key of keys) {
      const item = document.createElement('li');
      item.textContent = key;
      list.append(item);
    }
    ui.error.append(heading, list);
  }
}

async function checkIsolation(): Promise<void> {
  if (state.isolated) {
    ui.isolation.textContent = 'cross-origin isolated: SharedArrayBuffer is available.';
    return;
  }
  const wanted: [string, string][] = [
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Embedder-Policy', 'require-corp'],
  ];
  try {
    const response = await fetch(location.href, { method: 'HEAD', cache: 'no-store' });
    state.missingHeaders = wanted
      .filter(([name, value]) => response.headers.get(name)?.toLowerCase() !== value)
      .map(([name, value]) => `${name}: ${value}`);
  } catch {
    state.missingHeaders = wanted.map(([name, value]) => `${name}: ${value}`);
  }
  ui.isolation.className = 'warn';
  ui.isolation.textContent =
    state.missingHeaders.length > 0
      ? `Not cross-origin isolated, so SharedArrayBuffer is unavailable (worker data parallelism needs it; this single-worker demo runs without it). The server did not send: ${state.missingHeaders.join('; ')}.`
      : 'Not cross-origin isolated although the headers are sent: the page needs a secure context (https, or http://127.0.0.1 / localhost).';
}

// ---------------------------------------------------------------- the worker

// The page's query goes to the worker: `?allow-software-gpu` lets a software WebGPU adapter count.
const worker = new Worker(`/worker.js${location.search}`, { type: 'module' });

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(message, transfer);
}

function saveFile(name: string, bytes: ArrayBuffer): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  state.downloads.push(name);
}

worker.addEventListener('error', (event) => {
  showError({
    type: 'error',
    during: 'startup',
    name: 'WorkerError',
    message: `the training worker failed to start: ${event.message || 'a script did not load (see the console)'}`,
    missingKeys: [],
    unexpectedKeys: [],
    mismatchedKeys: [],
  });
});

worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready': {
      state.gpu = m.gpu;
      originals = m.originals;
      scatterLabels = m.scatterLabels;
      const gpuOption = ui.accelerator.querySelector<HTMLOptionElement>('option[value=webgpu]')!;
      gpuOption.disabled = m.gpu.adapter === null;
      gpuOption.textContent = m.gpu.adapter === null ? 'WebGPU (no adapter)' : `WebGPU (${m.gpu.adapter})`;
      ui.gpuNote.textContent =
        m.gpu.adapter === null
          ? `WebGPU is off here: ${m.gpu.reason}.${location.search.includes('allow-software-gpu') ? '' : ' Add ?allow-software-gpu to the URL to let a software adapter count.'}`
          : '';
      state.ready = true;
      ui.status.textContent = `ready: ${m.digits} digits loaded`;
      break;
    }
    case 'progress':
      state.step = m.step;
      state.epoch = m.epoch;
      state.losses.push(...m.losses.map(([s, l]): [number, number] => [s, l]));
      ui.status.textContent = `step ${m.step} · epoch ${m.epoch} · loss ${state.losses.at(-1)?.[1].toFixed(4) ?? '…'} · ${Math.round(m.stepsPerSecond)} steps/s`;
      drawLoss();
      break;
    case 'visuals':
      drawVisuals(m);
      break;
    case 'done':
      state.training = false;
      state.step = m.step;
      state.done = { step: m.step, stopped: m.stopped, backend: m.backend, checkpoint: m.checkpoint };
      ui.status.textContent = `${m.stopped ? 'stopped' : 'finished'} at step ${m.step} on ${m.backend || 'no backend'}; loss ${state.losses.at(-1)?.[1].toFixed(4) ?? '…'}`;
      if (m.checkpoint !== null)
        ui.notice.textContent = `checkpoint: ${m.checkpoint} (in the origin private file system)`;
      break;
    case 'file':
      saveFile(m.name, m.bytes);
      break;
    case 'loaded':
      state.loaded = { name: m.name, step: m.step, resumes: m.resumes };
      state.step = m.step;
      ui.notice.textContent = `loaded ${m.name} (global step ${m.step}); Train ${m.resumes ? 'resumes it (weights, optimizer and step)' : 'continues from its weights with a fresh optimizer'}`;
      break;
    case 'error':
      showError(m);
      break;
  }
  setControls();
});

ui.train.addEventListener('click', () => {
  const steps = Math.max(1, Math.floor(Number(ui.steps.value) || 1));
  showError(null);
  ui.notice.textContent = '';
  state.training = true;
  setControls();
  send({ type: 'train', steps, accelerator: ui.accelerator.value as Accelerator });
});
ui.stop.addEventListener('click', () => send({ type: 'stop' }));
ui.downloadCkpt.addEventListener('click', () => send({ type: 'download', what: 'checkpoint' }));
ui.downloadEvents.addEventListener('click', () => send({ type: 'download', what: 'events' }));
ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file === undefined) return;
  showError(null);
  state.loaded = null;
  void file.arrayBuffer().then((bytes) => {
    send({ type: 'load', name: file.name, bytes }, [bytes]);
    ui.file.value = '';
  });
});

const legendItems = COLOURS.map((colour, digit) => {
  const item = document.createElement('span');
  item.style.background = colour;
  item.textContent = String(digit);
  return item;
});
ui.legend.append(...legendItems);

function tick(): void {
  state.frames++;
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);
drawLoss();
setControls();
void checkIsolation();
