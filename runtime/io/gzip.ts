/**
 * @module io/gzip — gzip through the Web-standard (De)CompressionStream.
 *
 * `DecompressionStream('gzip')` exists in Node >= 18, Deno and browsers, so
 * no zlib port is bundled. Errors from the stream (bad header, bad CRC,
 * truncated input) become a typed {@link FormatError}.
 */
import { FormatError } from './errors.ts';

/**
 * True when `bytes` start with the gzip magic number 0x1f 0x8b (RFC 1952).
 * @example isGzip(new Uint8Array([0x1f, 0x8b, 8])) // true
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * All of `bytes` pushed through a (de)compression stream, collected into one array.
 * @example await pipeThroughStream(bytes, new DecompressionStream('deflate-raw'))
 */
export async function pipeThroughStream(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Write and close without awaiting: a stream error rejects these promises
  // too, and reading below is what surfaces it.
  // The streams take ArrayBuffer-backed views only; copy a SharedArrayBuffer view.
  const input = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  writer.write(input).catch(() => undefined);
  writer.close().catch(() => undefined);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Decompresses one gzip stream.
 * @example const raw = await gunzip(await getPlatform().readFile('train-images-idx3-ubyte.gz'));
 */
export async function gunzip(bytes: Uint8Array, name = 'gzip'): Promise<Uint8Array> {
  if (!isGzip(bytes)) {
    const got = Array.from(bytes.subarray(0, 2), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw new FormatError(`${name}: not a gzip stream; expected magic 0x1f 0x8b, got ${got === '' ? 'an empty file' : got}`);
  }
  try {
    return await pipeThroughStream(bytes, new DecompressionStream('gzip'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FormatError(`${name}: corrupt gzip data; expected a complete gzip stream, got an error after ${bytes.length} compressed bytes (${reason})`, { cause: error });
  }
}

/**
 * Compresses `bytes` into one gzip stream (tests and writers use it).
 * @example const gz = await gzip(new TextEncoder().encode('hello'));
 */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipeThroughStream(bytes, new CompressionStream('gzip'));
}
