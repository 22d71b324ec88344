/**
 * @module errors — the typed errors of lightning-ts.
 *
 * Messages follow one format: `<op or component>: <what is wrong>; expected <x>, got <y>`.
 */

/** Base class of every error this library throws on purpose. */
export class LightningError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit an op, e.g. `matmul: inner dimensions differ; expected a[-1] == b[-2], got [2,3] @ [4,5]`. */
export class ShapeError extends LightningError {}

/** A dtype an op does not accept. */
export class DTypeError extends LightningError {}

/** A dimension or index outside its range. */
export class IndexError extends LightningError {}

/** Use of a tensor after `dispose()`, or of a freed graph. */
export class DisposedError extends LightningError {}

/** Autograd misuse, e.g. `backward()` on a non-scalar without a gradient. */
export class AutogradError extends LightningError {}

/** An op that a backend does not implement. */
export class NotImplementedOpError extends LightningError {}

/** A backend that cannot start or was misused (e.g. tensors from two backends in one op). */
export class BackendError extends LightningError {}

/** An invalid argument or option value. */
export class ValueError extends LightningError {}

/**
 * A WebGPU program that failed to compile or validate, or a queue submission the device
 * rejected, e.g. `webgpu: program add_f32_r1 failed to compile; expected valid WGSL, got ...`.
 * WebGPU reports these asynchronously, so the backend raises them at the next `read()`/`flush()`.
 */
export class WebGPUError extends BackendError {}

/**
 * The GPU device was lost (driver reset, `device.destroy()`, out of memory); every later
 * call on the backend throws it, naming the reason.
 */
export class DeviceLostError extends BackendError {}

/**
 * No WebGPU adapter that fits the request: none at all, only a software (fallback) one
 * while `allowFallbackAdapter` is false, or one without a required feature. `tried` lists
 * every step, in order, e.g. `['navigator.gpu: absent']` or
 * `["requestAdapter({powerPreference:'high-performance'}): null"]`.
 *
 * @example
 * try { await requestWebGPUBackend(); } catch (e) { if (e instanceof NoGpuAdapterError) console.log(e.tried); }
 */
export class NoGpuAdapterError extends BackendError {
  readonly tried: readonly string[];
  constructor(message: string, tried: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.tried = tried;
  }
}
