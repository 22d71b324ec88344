/**
 * @module examples/serve/node-server — the encoder behind Node's `http` module.
 *
 *   node node-server.js model.ckpt   # PORT=8787 by default; prints "listening on http://127.0.0.1:<port>"
 *
 * The body is read with a bound (MAX_BODY_BYTES) before it is parsed; see README.md for the protocol.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { answer, loadEncoder, RequestError } from './embed.ts';

const encoder = await loadEncoder(await readFile(process.argv[2] ?? 'model.ckpt'));

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        fail(
          new RequestError('body_too_large', `embed: the body is too large; expected at most ${limit} bytes, got more`),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => done(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', fail);
  });
}

const server = createServer((req, res) => {
  const header = (name: string): string | null => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : null;
  };
  answer(encoder, {
    method: req.method ?? 'GET',
    path: new URL(req.url ?? '/', 'http://localhost').pathname,
    contentType: header('content-type'),
    shape: header('x-shape'),
    readBody: (limit) => readBody(req, limit),
  }).then(
    ({ status, body }) => {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(body);
    },
    (error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { type: 'internal', message: String(error) } }));
    },
  );
});

server.listen(Number(process.env.PORT ?? 8787), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : ''}`);
});
