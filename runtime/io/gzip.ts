/**
 * @module io/gzip — gzip through the Web-standard (De)CompressionStream.
 *
 * `DecompressionStream('gzip')` exists in Node >= 18, Deno and browsers, so
 * no zlib port is bundled. Errors from the stream (bad header, bad CRC,
 * truncated input) become a typed {@link FormatError}. Output is read
 * incrementally and the stream is cancelled as soon as it passes its cap, so a
 * DEFLATE bomb costs the cap, never its full inflated size.
 */
import { DEFAULT_LIMITS, limitOf, toBytes, type BytesInput, type ReadLimits } from './bytes.ts';
import { FormatError, LimitError } from './errors.ts';

/** Options of {@link gunzip}. */
export type GunzipOptions = Pick<ReadLimits, 'maxBytes'>;

/**
 * True when `bytes` start with the gzip magic number 0x1f 0x8b (RFC 1952).
 * @example isGzip(new Uint8Array([0x1f, 0x8b, 8])) // true
 */
export function isGzip(bytes: BytesInput): boolean {
  const b = toBytes(bytes, 'gzip');
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
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
 * All of `bytes` pushed through a (de)compression stream, collected into one array.
 * Use {@link pipeCapped} for untrusted compressed input.
 * @example await pipeThroughStream(bytes, new CompressionStream('gzip'))
 */
export async function pipeThroughStream(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = await pipeCapped(bytes, stream, Infinity);
  return out!;
}

/**
 * `bytes` pushed through a (de)compression stream, reading the output chunk by chunk;
 * undefined (and the stream cancelled) once the output passes `cap` bytes.
 * @example const data = await pipeCapped(raw, new DecompressionStream('deflate-raw'), entry.size);
 */
export async function pipeCapped(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
  cap: number,
): Promise<Uint8Array | undefined> {
  const writer = stream.writable.getWriter();
  // Write and close without awaiting: a stream error rejects these promises
  // too, and reading below is what surfaces it. The stream applies backpressure,
  // so unread output is not inflated ahead of the reads.
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
    total += value.length;
    if (total > cap) {
      reader.cancel().catch(() => undefined);
      writer.abort().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return concat(chunks, total);
}

/**
 * Decompresses one gzip stream (any `ArrayBufferView` or `ArrayBuffer`). The output may be
 * at most `options.maxBytes` bytes (default: the larger of 256 MiB and 16 times the input);
 * past that it is a {@link LimitError}, found while inflating.
 * @example const raw = await gunzip(await getPlatform().readFile('train-images-idx3-ubyte.gz'));
 */
export async function gunzip(input: BytesInput, name = 'gzip', options: GunzipOptions = {}): Promise<Uint8Array> {
  const bytes = toBytes(input, name);
  const max = limitOf(name, 'maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes(bytes.length));
  if (!isGzip(bytes)) {
    const got = Array.from(bytes.subarray(0, 2), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw new FormatError(
      `${name}: not a gzip stream; expected magic 0x1f 0x8b, got ${got === '' ? 'an empty file' : got}`,
    );
  }
  let out: Uint8Array | undefined;
  try {
    out = await pipeCapped(bytes, new DecompressionStream('gzip'), max);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FormatError(
      `${name}: corrupt gzip data; expected a complete gzip stream, got an error after ${bytes.length} compressed bytes (${reason})`,
      { cause: error },
    );
  }
  if (out === undefined) throw new LimitError(name, 'inflated data', 'maxBytes', max, `more than ${max}`, 'bytes');
  return out;
}

/**
 * Compresses `bytes` into one gzip stream (tests and writers use it).
 * @example const gz = await gzip(new TextEncoder().encode('hello'));
 */
export async function gzip(bytes: BytesInput): Promise<Uint8Array> {
  return pipeThroughStream(toBytes(bytes, 'gzip'), new CompressionStream('gzip'));
}
