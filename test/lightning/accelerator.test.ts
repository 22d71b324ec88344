/**
 * @module lightning/accelerator.test — how the Trainer picks its backend ('auto', 'cpu',
 * 'webgpu'/'gpu', a Backend), says the 'auto' choice once, reports a missing adapter with the
 * platform's typed error, and moves models (Module.toBackend) and batches (moveBatch).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { NoGpuAdapterError } from '../../runtime/errors.ts';
import { manualSeed } from '../../runtime/random.ts';
import { Tensor, tensor } from '../../runtime/tensor/index.ts';
import { setPlatform, type Platform } from '../../runtime/platform.ts';
import { wasNoticed } from '../../runtime/notice.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { moveBatch } from '../../runtime/lightning/accelerator.ts';
import { BatchNorm1d, Linear, Parameter, Sequential } from '../../runtime/nn/index.ts';
import { asyncReadbackBackend } from '../helpers/async-backend.ts';
import { LitAutoEncoder, digitLoader, lightningPlatform, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

let wasm: Backend;
let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  wasm = await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
  setPlatform(lightningPlatform);
});
afterEach(async () => {
  setPlatform(lightningPlatform);
  await dir.cleanup();
});

const quiet = {
  enableProgressBar: false,
  enableModelSummary: false,
  logger: false,
  enableCheckpointing: false,
  maxSteps: 1,
} as const;

describe('accelerator', () => {
  it("accelerator 'auto': with no hardware adapter it trains on the cpu backend and says so once", async () => {
    manualSeed(1);
    const model = new LitAutoEncoder();
    const trainer = new Trainer({ ...quiet });
    await trainer.fit(model, digitLoader(8));
    expect(trainer.acceleratorName).toBe('cpu');
    expect(trainer.rootBackend).toBe(wasm);
    expect(model.parameters()[0]!.backend).toBe(wasm);
    expect(wasNoticed('trainer-accelerator-auto')).toBe(true);
  });

  it("accelerator 'auto': a hardware adapter found by detectGpu makes the Trainer request a WebGPU device", async () => {
    const asked: unknown[] = [];
    const withGpu: Platform = {
      ...lightningPlatform,
      detectGpu: async () => ({
        adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'H100' },
        features: { f16: true, subgroups: true },
        reason: 'found',
        tried: [],
      }),
      requestGpu: (options) => {
        asked.push(options);
        return Promise.reject(new NoGpuAdapterError('requestGpu: stub; expected a device, got a stub', ['stub']));
      },
    };
    setPlatform(withGpu);
    const trainer = new Trainer({ ...quiet, webgpu: { powerPreference: 'high-performance' } });
    await expect(trainer.fit(new LitAutoEncoder(), digitLoader(8))).rejects.toThrow(/requestGpu: stub/);
    expect(asked).toEqual([{ powerPreference: 'high-performance' }]);
  });

  it("accelerator 'webgpu' and 'gpu': no adapter is the platform's NoGpuAdapterError listing what was tried", async () => {
    for (const accelerator of ['webgpu', 'gpu']) {
      const trainer = new Trainer({ ...quiet, accelerator });
      const fit = trainer.fit(new LitAutoEncoder(), digitLoader(8));
      await expect(fit).rejects.toThrow(NoGpuAdapterError);
      await expect(fit).rejects.toThrow(/tried: test platform: no GPU/);
    }
  });

  it('accelerator: a Backend is used as given; the model moves there before configureOptimizers (the optimizer holds the moved parameters)', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    manualSeed(2);
    const model = new LitAutoEncoder();
    const trainer = new Trainer({ ...quiet, accelerator: gpuLike });
    await trainer.fit(model, digitLoader(8));
    expect(trainer.acceleratorName).toBe('wasm-async');
    const params = new Set(model.parameters());
    for (const p of trainer.optimizers[0]!.paramGroups.flatMap((g) => g.params)) {
      expect(params.has(p as Parameter)).toBe(true);
      expect(p.backend).toBe(gpuLike);
    }
  });

  it('Module.toBackend: parameters stay parameters (requiresGrad kept), buffers move, a shared tensor moves once, old tensors are disposed', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const lin = new Linear(3, 2);
    const bn = new BatchNorm1d(2);
    const net = new Sequential(lin, bn, lin);
    lin.bias!.requiresGrad_(false);
    const oldWeight = lin.weight;
    const before = Array.from(await lin.weight.data());
    const mean = Array.from(await bn.runningMean!.data());
    await net.toBackend(gpuLike);
    expect(oldWeight.isDisposed).toBe(true);
    expect(lin.weight).toBeInstanceOf(Parameter);
    expect(lin.weight.backend).toBe(gpuLike);
    expect(lin.weight.requiresGrad).toBe(true);
    expect(lin.bias!.requiresGrad).toBe(false);
    expect(Array.from(await lin.weight.data())).toEqual(before);
    expect(bn.runningMean!.backend).toBe(gpuLike);
    expect(Array.from(await bn.runningMean!.data())).toEqual(mean);
    expect(net.parameters().length).toBe(4);
    expect([...net.stateDict().keys()]).toContain('1.num_batches_tracked');
  });

  it('moveBatch: tensors inside arrays, objects and Maps move; other values pass; nothing to move returns the batch itself', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const x = tensor([1, 2, 3]);
    const batch = { x, pair: [x, 7, 'label'], m: new Map([['y', tensor([4], { dtype: 'int32' })]]) };
    const moved = await (moveBatch(batch, gpuLike) as Promise<typeof batch>);
    expect(moved.x).toBeInstanceOf(Tensor);
    expect(moved.x.backend).toBe(gpuLike);
    expect(moved.pair[1]).toBe(7);
    expect(moved.pair[2]).toBe('label');
    expect((moved.pair[0] as Tensor).backend).toBe(gpuLike);
    expect(moved.m.get('y')!.dtype).toBe('int32');
    expect(Array.from(await moved.m.get('y')!.data())).toEqual([4]);
    expect(moveBatch(moved, gpuLike)).toBe(moved);
    const plain = [1, 'a', null];
    expect(moveBatch(plain, gpuLike)).toBe(plain);
  });
});
