/**
 * @module io/png — an 8-bit PNG encoder (grey, grey+alpha, RGB, RGBA).
 *
 * The zlib stream comes from the Web-standard `CompressionStream('deflate')`
 * (RFC 1950 framing, which is what IDAT holds), so no deflate port is bundled.
 * Rows use filter type 0 (None). Chunk checksums are CRC-32 (ISO 3309), as
 * the PNG specification (section 5.5) requires (shared with zip, io/crc32).
 */
import { ValueError } from '../errors.ts';
import { crc32 } from './crc32.ts';

/** Pixels to encode: `height` rows of `width` pixels of `channels` bytes, row-major, interleaved. */
export interface PngImage {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint8ClampedArray;
}

const COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;
const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes 8-bit pixels as a PNG file.
 * @example
 * const png = await encodePng({ width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) });
 */
export async function encodePng(image: PngImage): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    width > 0x7fffffff ||
    height > 0x7fffffff
  ) {
    throw new ValueError(`png: invalid size; expected positive integer width and height, got ${width}x${height}`);
  }
  if (!(channels in COLOR_TYPE)) {
    throw new ValueError(`png: unsupported channel count; expected 1, 2, 3 or 4, got ${String(channels)}`);
  }
  const rowBytes = width * channels;
  if (data.length !== rowBytes * height) {
    throw new ValueError(
      `png: pixel data has the wrong length; expected ${width}x${height}x${channels} = ${rowBytes * height} bytes, got ${data.length}`,
    );
  }
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    // Filter byte 0 (None), then the row.
    raw.set(data.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0, interlace 0: already zero.
  const idat = await deflate(raw);
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Converts an image in [0, 1] floats (or 0..255 integers) to 8-bit pixels, as
 * torch.utils.tensorboard does: floats are scaled by 255, then clipped to
 * [0, 255] and truncated toward zero (numpy's `astype(np.uint8)`).
 * @example toUint8(new Float32Array([0, 0.5, 1]), 'float') // Uint8Array [0, 127, 255]
 */
export function toUint8(values: ArrayLike<number>, kind: 'float' | 'uint8'): Uint8Array {
  const scale = kind === 'float' ? 255 : 1;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! * scale;
    out[i] = Number.isNaN(v) ? 0 : v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}
