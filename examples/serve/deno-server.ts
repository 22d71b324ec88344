/**
 * @module examples/serve/deno-server — the encoder behind `Deno.serve`.
 *
 *   deno run --allow-read --allow-net --allow-env=PORT deno-server.ts model.ckpt
 *
 * Prints "listening on http://127.0.0.1:<port>"; see README.md for the protocol.
 */
import { handleFetch, loadEncoder } from './embed.ts';

/** The few Deno APIs this example uses (tsc has no Deno types). */
interface DenoApi {
  readonly args: readonly string[];
  readFile(path: string): Promise<Uint8Array>;
  readonly env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const encoder = await loadEncoder(await Deno.readFile(Deno.args[0] ?? 'model.ckpt'));

Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(Deno.env.get('PORT') ?? 8787),
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  },
  (request) => handleFetch(encoder, request),
);
