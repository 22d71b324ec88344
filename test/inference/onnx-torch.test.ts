/**
 * @module inference/onnx-torch.test — OnnxSession runs the files torch.onnx.export (torch 1.13)
 * wrote for the seed autoencoder, its encoder, a small CNN (with Flatten, and with
 * x.view(x.size(0), -1)'s Shape/Gather/Unsqueeze/Concat/Reshape) and an op zoo, at opsets 13 and
 * 17, on every available backend, at two batch sizes through one dynamic-batch file each, and
 * matches torch's outputs within 1e-5. The files, inputs and outputs are fixtures made by
 * test/fixtures/onnx-torch/make-torch-onnx.py; no Python runs here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { OnnxSession } from '../../runtime/inference/onnx-session.ts';
import { liveBuffers } from '../../runtime/memory.ts';
import { Tensor } from '../../runtime/tensor/index.ts';
import { availableBackends } from '../helpers/backends.ts';
import { expectClose } from '../helpers/tolerance.ts';

const DIR = new URL('../fixtures/onnx-torch/', import.meta.url);
/** torch's outputs vs ours: |diff| <= atol + rtol·|torch| (the 1e-5). */
const TOLERANCE = { rtol: 1e-5, atol: 1e-5 } as const;

interface Case {
  readonly batch: number;
  readonly input: string;
  readonly inputShape: number[];
  readonly output: string;
  readonly outputShape: number[];
}
interface Entry {
  readonly onnx: Record<string, string>;
  readonly ops: Record<string, string[]>;
  readonly cases: Case[];
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as Record<string, Entry>;

function floats(name: string): Float32Array {
  const b = readFileSync(new URL(name, DIR));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('OnnxSession on torch.onnx.export files', () => {
  let backends: Backend[] = [];
  beforeAll(async () => {
    backends = await availableBackends();
  });
  afterAll(() => {
    for (const b of backends) b.dispose();
  });

  for (const [model, entry] of Object.entries(manifest)) {
    for (const [opset, file] of Object.entries(entry.onnx)) {
      it(`OnnxSession: torch's ${model} at opset ${opset} (${entry.ops[opset]!.join(', ')}) matches torch at batch ${entry.cases.map((c) => c.batch).join(' and ')}`, async () => {
        const bytes = readFileSync(new URL(file, DIR));
        for (const backend of backends) {
          const session = await OnnxSession.create(bytes, { backend });
          expect(session.inputNames).toEqual(['input']);
          expect(session.outputNames).toEqual(['output']);
          expect(session.opset).toBe(Number(opset));
          expect(session.inputs[0]!.shape[0]).toBe('batch');
          const before = liveBuffers(backend).liveBuffers;
          for (const c of entry.cases) {
            const x = Tensor.fromArray(backend, 'float32', c.inputShape, floats(c.input));
            const { output } = await session.run({ input: x });
            expect(output!.shape).toEqual(c.outputShape);
            expectClose(
              Array.from(await output!.data()),
              floats(c.output),
              TOLERANCE,
              `${model} opset ${opset} batch ${c.batch} on ${backend.name}`,
            );
            x.dispose();
            output!.dispose();
          }
          // Every intermediate was freed.
          expect(liveBuffers(backend).liveBuffers).toBe(before);
          session.dispose();
        }
      });
    }
  }
});
