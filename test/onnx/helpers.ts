/**
 * @module onnx/helpers — run exported models in onnxruntime-node, and check them with
 * Debian's python3-onnx (`onnx.checker.check_model(full_check=True)`).
 *
 * Both are optional locally: a suite that needs one skips, saying why, where it is missing,
 * and fails instead when CI is set (`.ci/run` installs both), as test/helpers/torch.ts does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';

const PYTHON = '/usr/bin/python3';
const CHECK_SCRIPT = new URL('../fixtures/onnx/check-model.py', import.meta.url).pathname;
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

/** Exported model vs our forward: |diff| <= atol + rtol·|ours| (the export issue's 1e-5). */
export const ONNX_TOLERANCE = { rtol: 1e-5, atol: 1e-5 } as const;

/** The part of onnxruntime-node's API the tests use (typed here so tsc passes without the package). */
export interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(bytes: Uint8Array): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Int32Array, dims: readonly number[]) => OrtTensor;
}

async function loadOrt(): Promise<Ort | null> {
  const name = 'onnxruntime-node';
  try {
    return (await import(name)) as Ort;
  } catch {
    return null;
  }
}

/** onnxruntime-node, or null where it is not installed. */
export const ORT = await loadOrt();

/** Whether Debian's python3-onnx can run here. */
export const HAS_ONNX_PY =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

/** `it` where onnxruntime-node loads or CI is set, else `it.skip`. */
export const ortIt = ORT !== null || IN_CI ? it : it.skip;
/** `it` where python3-onnx imports or CI is set, else `it.skip`. */
export const checkerIt = HAS_ONNX_PY || IN_CI ? it : it.skip;

if (ORT === null && !IN_CI) {
  console.warn(
    'onnx tests: skipping the onnxruntime runs: onnxruntime-node is not installed (a devDependency) and CI is unset',
  );
}
if (!HAS_ONNX_PY && !IN_CI) {
  console.warn(
    'onnx tests: skipping the onnx.checker runs: /usr/bin/python3 with onnx (Debian python3-onnx) is not installed and CI is unset',
  );
}

/** Runs `bytes` in onnxruntime on float32 (or int32) feeds; returns each output's data and dims. */
export async function runOrt(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array | Int32Array; dims: readonly number[] }>,
): Promise<Record<string, OrtTensor>> {
  if (ORT === null) {
    throw new Error(
      'onnx tests: CI is set but onnxruntime-node is not installed; expected it as a devDependency (npm ci), got none',
    );
  }
  const session = await ORT.InferenceSession.create(bytes);
  try {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      ortFeeds[k] = new ORT.Tensor(v.data instanceof Int32Array ? 'int32' : 'float32', v.data, v.dims);
    }
    return await session.run(ortFeeds);
  } finally {
    await session.release();
  }
}

/** What test/fixtures/onnx/check-model.py prints about one file. */
export interface CheckResult {
  readonly ok: boolean;
  readonly error: string | null;
  readonly ir_version: number;
  readonly opset: number[];
  readonly ops: string[];
  readonly initializers: string[];
  readonly inputs: [string, (number | string)[]][];
  readonly outputs: [string, (number | string)[]][];
}

/** onnx.load + onnx.checker.check_model(full_check=True) of `bytes`, by Debian's python3-onnx. */
export function checkOnnx(bytes: Uint8Array): CheckResult {
  if (!HAS_ONNX_PY) {
    throw new Error(
      'onnx tests: CI is set but /usr/bin/python3 cannot import onnx; expected Debian python3-onnx installed (apt-get install python3-onnx), got none',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'onnx-check-'));
  try {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, bytes);
    const r = spawnSync(PYTHON, [CHECK_SCRIPT, path], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.status !== 0) throw new Error(`check-model.py failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as CheckResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
