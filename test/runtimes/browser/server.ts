/**
 * @module browser/server — a tiny static file server for the browser smoke.
 *
 * Serves the repository on 127.0.0.1 with cross-origin isolation
 * (COOP same-origin, COEP require-corp), so the page gets SharedArrayBuffer
 * as production pages that train with workers will.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The headers every response carries. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** A running server: its base URL and a way to stop it. */
export interface StaticServer {
  readonly url: URL;
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 at a free port. Paths outside `root` get 403.
 *
 * @example
 * const server = await serveStatic('/work/main');
 * await fetch(new URL('package.json', server.url));
 * await server.close();
 */
export async function serveStatic(root: string): Promise<StaticServer> {
  const base = resolve(root);
  const server: Server = createServer((request, response) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      const path = resolve(join(base, pathname));
      if (path !== base && !path.startsWith(base + sep)) {
        response.writeHead(403, ISOLATION_HEADERS).end('forbidden');
        return;
      }
      try {
        const info = await stat(path);
        const file = info.isDirectory() ? join(path, 'index.html') : path;
        const body = await readFile(file);
        response.writeHead(200, {
          ...ISOLATION_HEADERS,
          'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
          'Content-Length': String(body.byteLength),
        });
        response.end(request.method === 'HEAD' ? undefined : body);
      } catch {
        response.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
      }
    })();
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('browser server: no TCP address; expected a port, got ' + String(address));
  return {
    url: new URL(`http://127.0.0.1:${address.port}/`),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
