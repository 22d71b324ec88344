/**
 * @module test/inference/bundle.test — the inference bundles hold nothing of training, and the
 * built node bundle has no tape: isGradEnabled() is false and backward() says training is elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleInference, forbiddenInputs, INFERENCE_ENTRIES } from '../../scripts/bundle-inference.mjs';
import { ROOT } from './serve-helpers.ts';

describe('bundle-inference', () => {
  for (const entry of INFERENCE_ENTRIES) {
    it(`bundle-inference: ${entry.out} has no trainer, optimizer, logger, amp or autograd file`, async () => {
      const result = await bundleInference(entry, { write: false });
      const inputs = Object.keys(result.metafile.outputs[entry.out]?.inputs ?? {});
      expect(inputs).toContain('runtime/inference/no-autograd.ts');
      expect(inputs).toContain('runtime/backends/wasm/backend.ts');
      expect(inputs).not.toContain('runtime/autograd.ts');
      expect(forbiddenInputs(result.metafile, entry.out)).toEqual([]);
    });
  }

  it('bundle-inference: the node bundle runs forward and refuses backward with a typed error', async () => {
    await bundleInference(INFERENCE_ENTRIES[0]!);
    const script = `
      const m = await import(${JSON.stringify(join(ROOT, 'dist/lightning-ts.inference.node.js'))});
      const lin = new m.nn.Linear(2, 1);
      const one = new m.nn.Linear(1, 1);
      const y = lin.forward(m.tensor([[1, 2]]));
      let err = 'none';
      try { one.weight.backward(); } catch (e) { err = (e instanceof m.TrainingNotAvailableError) + ' ' + e.name + ': ' + e.message; }
      console.log(JSON.stringify({ grad: m.isGradEnabled(), shape: y.shape, err, onnx: await lin.toOnnx(m.tensor([[1, 2]])).catch((e) => e.constructor.name) }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out.grad).toBe(false);
    expect(out.shape).toEqual([1, 1]);
    expect(out.err).toMatch(/^true TrainingNotAvailableError: backward: training is not in the inference entry/);
    expect(out.onnx).toBe('OnnxExportError');
  });
});
