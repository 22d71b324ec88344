/**
 * @module webgpu/train-smoke-deno — the seed autoencoder (Linear 784→64, ReLU, Linear 64→3 and
 * the mirror; MSE; Adam 1e-3) trained for a few steps on the WebGPU backend and on the
 * reference backend from the same seed, in Deno: the losses must agree within the gradient
 * tolerance, and the WebGPU backend's live buffers must not grow step over step.
 *
 * `node_modules/.bin/deno run -A test/backends/webgpu/train-smoke-deno.ts`; exit 1 on failure.
 */
import type { Backend } from '../../../runtime/backend.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { createWebGPUBackend } from '../../../runtime/backends/webgpu/backend.ts';
import { F, manualSeed, nn, optim, rand, setDefaultBackend, tidy } from '../../../runtime/index.ts';
import { TOLERANCES } from '../../helpers/tolerance.ts';

declare const Deno: { exit(code: number): never };

const STEPS = 8;

async function train(backend: Backend): Promise<{ losses: number[]; live: number[] }> {
  setDefaultBackend(backend);
  manualSeed(42);
  const encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
  const decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 784));
  const params = [...encoder.parameters(), ...decoder.parameters()];
  const opt = new optim.Adam(params, { lr: 1e-3 });
  const x = rand([32, 784]);
  const losses: number[] = [];
  const live: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = tidy(() => {
      const l = F.mseLoss(decoder.forward(encoder.forward(x)), x);
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
    losses.push(await loss.item());
    loss.dispose();
    live.push(backend.memory().liveBuffers);
  }
  return { losses, live };
}

const adapter = await navigator.gpu.requestAdapter();
if (adapter === null) {
  console.log('SKIP webgpu train smoke: no WebGPU adapter in Deno');
  Deno.exit(0);
}
const device = await adapter.requestDevice();
const gpu = await train(createWebGPUBackend({ device }));
const ref = await train(createReferenceBackend());
const tol = TOLERANCES.gradient.float32;
let ok = true;
gpu.losses.forEach((l, i) => {
  const e = ref.losses[i] ?? NaN;
  const good = Math.abs(l - e) <= tol.atol + tol.rtol * Math.abs(e);
  ok &&= good;
  console.log(`${good ? 'ok  ' : 'FAIL'} step ${i}: webgpu loss ${l}, reference ${e}`);
});
const grows = gpu.live.slice(2).some((n, i) => n > (gpu.live[i + 1] ?? n));
if (grows) {
  ok = false;
  console.log(`FAIL live buffers grow step over step: ${gpu.live.join(', ')}`);
} else {
  console.log(`ok   live buffers per step: ${gpu.live.join(', ')}`);
}
Deno.exit(ok ? 0 : 1);
