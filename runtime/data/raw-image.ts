/**
 * @module data/raw-image — a raw 8-bit image, what the vision datasets return
 * before any transform (torchvision returns a PIL image there). Named RawImage,
 * not Image, so it does not shadow the DOM's `Image` in browser code.
 */
import { ValueError } from '../errors.ts';

/**
 * `height * width * channels` bytes, row-major, channels last (HWC), as a PIL
 * image or a decoded `ImageData` minus alpha. `ToTensor` turns it into a
 * float32 `[channels, height, width]` tensor in [0, 1].
 * @example
 * const img = new RawImage(new Uint8Array(28 * 28), 28, 28, 1);
 * img.at(0, 0) // 0
 */
export class RawImage {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;

  constructor(data: Uint8Array, height: number, width: number, channels = 1) {
    for (const [name, v] of [
      ['height', height],
      ['width', width],
      ['channels', channels],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) {
        throw new ValueError(`RawImage: ${name} must be a positive integer; expected an integer >= 1, got ${v}`);
      }
    }
    if (data.length !== height * width * channels) {
      throw new ValueError(
        `RawImage: data length does not match the size; expected ${height}*${width}*${channels} = ${height * width * channels} bytes, got ${data.length}`,
      );
    }
    this.data = data;
    this.height = height;
    this.width = width;
    this.channels = channels;
  }

  /** The value at row `y`, column `x`, channel `c`. */
  at(y: number, x: number, c = 0): number {
    return this.data[(y * this.width + x) * this.channels + c]!;
  }
}
