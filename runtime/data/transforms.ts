/**
 * @module data/transforms — torchvision.transforms: ToTensor, Normalize, Compose, Lambda.
 *
 * A transform is an object with `forward(x)`, like an nn module (TypeScript
 * classes are not callable). Datasets call `transform.forward(image)`.
 */
import { DTypeError, ShapeError, ValueError } from '../errors.ts';
import { tidy } from '../memory.ts';
import { shapeString } from '../shape.ts';
import { Tensor, backendOr } from '../tensor/index.ts';
import { RawImage } from './raw-image.ts';

/**
 * Anything with `forward(x)`.
 * @example const double: Transform<number, number> = { forward: (x) => 2 * x };
 */
export interface Transform<I, O> {
  forward(x: I): O;
}

/**
 * uint8 HWC image → float32 `[C, H, W]` tensor in [0, 1] (divides by 255), as torchvision's ToTensor.
 * @example new ToTensor().forward(img).shape // [1, 28, 28]
 */
export class ToTensor implements Transform<RawImage, Tensor> {
  forward(image: RawImage): Tensor {
    if (!(image instanceof RawImage)) {
      throw new ValueError(`ToTensor: unsupported input; expected a RawImage (uint8 HWC), got ${describe(image)}`);
    }
    return imagesToTensor([image], false);
  }

  /** @internal Several images of one size as one `[N, C, H, W]` tensor (the datasets' batch path). */
  forwardBatch(images: readonly RawImage[]): Tensor {
    return imagesToTensor(images, true);
  }

  toString(): string {
    return 'ToTensor()';
  }
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a Tensor of shape ${shapeString(x.shape)}`;
  return x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x;
}

// v / 255 for every byte. Rounding the float64 quotient to float32 equals
// torch's float32 division (double rounding is innocuous for division).
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Writes one HWC uint8 image, as CHW floats in [0, 1], into `out` at `at`. */
function writeChw(out: Float32Array, at: number, src: Uint8Array, from: number, plane: number, c: number): void {
  if (c === 1) {
    for (let i = 0; i < plane; i++) out[at + i] = BYTE_TO_UNIT[src[from + i]!]!;
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    const base = at + ch * plane;
    for (let i = 0; i < plane; i++) out[base + i] = BYTE_TO_UNIT[src[from + i * c + ch]!]!;
  }
}

function imagesToTensor(images: readonly RawImage[], batched: boolean): Tensor {
  const first = images[0];
  if (first === undefined) throw new ValueError('ToTensor: no images; expected at least 1, got 0');
  const { height: h, width: w, channels: c } = first;
  const plane = h * w;
  const out = new Float32Array(images.length * c * plane);
  images.forEach((img, k) => {
    if (img.height !== h || img.width !== w || img.channels !== c) {
      throw new ShapeError(
        `ToTensor: images of one batch differ in size; expected ${h}x${w}x${c}, got ${img.height}x${img.width}x${img.channels}`,
      );
    }
    writeChw(out, k * c * plane, img.data, 0, plane, c);
  });
  const shape = batched ? [images.length, c, h, w] : [c, h, w];
  return Tensor.fromArray(backendOr(undefined), 'float32', shape, out);
}

/** Options of {@link Normalize}. */
export interface NormalizeOptions {
  /** Accepted for torchvision parity; the result is always a new tensor. */
  readonly inplace?: false;
}

/**
 * `(x - mean[c]) / std[c]` per channel of a float `[..., C, H, W]` tensor, as torchvision's Normalize.
 * @example new Normalize([0.1307], [0.3081]).forward(new ToTensor().forward(img))
 */
export class Normalize implements Transform<Tensor, Tensor> {
  readonly mean: readonly number[];
  readonly std: readonly number[];

  constructor(mean: readonly number[] | number, std: readonly number[] | number, options: NormalizeOptions = {}) {
    if (options.inplace !== undefined && options.inplace !== false) {
      throw new ValueError(`Normalize: inplace is not supported; expected false, got ${String(options.inplace)}`);
    }
    this.mean = typeof mean === 'number' ? [mean] : [...mean];
    this.std = typeof std === 'number' ? [std] : [...std];
    if (this.mean.length === 0 || this.std.length === 0) {
      throw new ValueError(
        `Normalize: mean and std must not be empty; expected at least one value each, got mean [${this.mean.join(', ')}], std [${this.std.join(', ')}]`,
      );
    }
    if (this.std.some((s) => s === 0)) {
      throw new ValueError(
        `Normalize: std evaluated to zero, leading to division by zero; expected non-zero values, got [${this.std.join(', ')}]`,
      );
    }
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) {
      throw new ValueError(`Normalize: unsupported input; expected a float Tensor [..., C, H, W], got ${describe(x)}`);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'float64') {
      throw new DTypeError(`Normalize: input must be a float tensor; expected float32 or float64, got ${x.dtype}`);
    }
    if (x.dim() < 3) {
      throw new ShapeError(
        `Normalize: input must be at least 3-D; expected [..., C, H, W], got ${shapeString(x.shape)}`,
      );
    }
    const channels = x.shape[x.dim() - 3]!;
    for (const [name, v] of [
      ['mean', this.mean],
      ['std', this.std],
    ] as const) {
      if (v.length !== 1 && v.length !== channels) {
        throw new ShapeError(
          `Normalize: ${name} does not match the channels; expected 1 or ${channels} values for input ${shapeString(x.shape)}, got ${v.length}`,
        );
      }
    }
    return tidy(() => {
      if (this.mean.length === 1 && this.std.length === 1) return x.sub(this.mean[0]!).div(this.std[0]!);
      const column = (v: readonly number[]): Tensor =>
        Tensor.fromArray(
          x.backend,
          x.dtype,
          [v.length, 1, 1],
          x.dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v),
        );
      return x.sub(column(this.mean)).div(column(this.std));
    });
  }

  toString(): string {
    return `Normalize(mean=[${this.mean.join(', ')}], std=[${this.std.join(', ')}])`;
  }
}

/**
 * Applies transforms in order, as torchvision's Compose. The input type comes
 * from the first transform and the output type from the last.
 * @example const t = new Compose([new ToTensor(), new Normalize([0.1307], [0.3081])]); // Compose<RawImage, Tensor>
 */
export class Compose<I = unknown, O = unknown> implements Transform<I, O> {
  readonly transforms: readonly Transform<unknown, unknown>[];

  constructor(
    transforms:
      | readonly [Transform<I, O>]
      | readonly [Transform<I, unknown>, ...Transform<never, unknown>[], Transform<never, O>],
  ) {
    for (const [i, t] of transforms.entries()) {
      if (typeof (t as Partial<Transform<never, unknown>>).forward !== 'function') {
        throw new ValueError(
          `Compose: transform ${i} has no forward method; expected an object with forward(x), got ${describe(t)}`,
        );
      }
    }
    this.transforms = transforms as readonly Transform<unknown, unknown>[];
  }

  forward(x: I): O {
    let y: unknown = x;
    for (const t of this.transforms) y = t.forward(y);
    return y as O;
  }

  toString(): string {
    return `Compose([${this.transforms.map(String).join(', ')}])`;
  }
}

/**
 * Wraps a function as a transform, as torchvision's Lambda.
 * @example const flat = new Lambda((x: Tensor) => x.flatten());
 */
export class Lambda<I, O> implements Transform<I, O> {
  readonly fn: (x: I) => O;

  constructor(fn: (x: I) => O) {
    if (typeof fn !== 'function') {
      throw new ValueError(`Lambda: not a function; expected a function, got ${typeof fn}`);
    }
    this.fn = fn;
  }

  forward(x: I): O {
    return this.fn(x);
  }

  toString(): string {
    return 'Lambda()';
  }
}

/** A batch of images stored back to back (HWC each), as in a dataset's `data`. */
export interface PackedImages {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/**
 * @internal Images `rows` of `packed` as one float32 `[N, C, H, W]` tensor in [0, 1]:
 * ToTensor over a batch, without a RawImage object per item.
 */
export function packedToTensor(packed: PackedImages, rows: readonly number[]): Tensor {
  const { data, height: h, width: w, channels: c } = packed;
  const size = h * w * c;
  const out = scratch(rows.length * size);
  rows.forEach((r, k) => writeChw(out, k * size, data, r * size, h * w, c));
  return Tensor.fromArray(backendOr(undefined), 'float32', [rows.length, c, h, w], out);
}

// One host staging buffer, reused by every batch: Backend.write copies it, and
// reusing it halves the cost of a batch (no zero-fill, no garbage).
let staging = new Float32Array(0);

function scratch(length: number): Float32Array {
  if (staging.length < length) staging = new Float32Array(length);
  return staging.subarray(0, length);
}

/**
 * @internal The batch form of `transform` for packed images, when it has one:
 * ToTensor, optionally followed by Normalize steps (which accept `[N, C, H, W]`
 * as they are). Lambda and unknown transforms have none, since they may assume one item.
 */
export function batchImageTransform(
  transform: Transform<RawImage, unknown> | undefined,
): ((packed: PackedImages, rows: readonly number[]) => Tensor) | undefined {
  if (transform instanceof ToTensor) return packedToTensor;
  if (!(transform instanceof Compose)) return undefined;
  const [head, ...rest] = transform.transforms;
  if (!(head instanceof ToTensor) || !rest.every((t) => t instanceof Normalize)) return undefined;
  const norms = rest as readonly Normalize[];
  return (packed, rows) => {
    if (norms.length === 0) return packedToTensor(packed, rows);
    return tidy(() => norms.reduce((x, n) => n.forward(x), packedToTensor(packed, rows)));
  };
}
