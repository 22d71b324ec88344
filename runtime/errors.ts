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

/**
 * The host's failure kinds, one name across Node, Deno and browsers: POSIX names where the
 * host has them (Deno uses the same), `QUOTA` for EDQUOT and OPFS's QuotaExceededError, and
 * `UNKNOWN` for anything else (the host's own code is then in the message and `cause`).
 */
export type FileSystemErrorCode =
  | 'ENOTDIR'
  | 'ENOSPC'
  | 'EFBIG'
  | 'EACCES'
  | 'EPERM'
  | 'EROFS'
  | 'ENOENT'
  | 'EISDIR'
  | 'EEXIST'
  | 'EMFILE'
  | 'EIO'
  | 'QUOTA'
  | 'UNKNOWN';

/** The Platform file method that failed. */
export type FileSystemOperation =
  | 'readFile'
  | 'writeFile'
  | 'listDir'
  | 'removeFile'
  | 'mkdirp'
  | 'makeDirExclusive'
  | 'sweepTempFiles';

/** What a {@link FileSystemError} is made of; the message is built from it. */
export interface FileSystemFault {
  readonly code: FileSystemErrorCode;
  /** The path the caller passed (never a temporary name). */
  readonly path: string;
  readonly operation: FileSystemOperation;
  /** What is wrong, naming the path, e.g. `no space left on the device writing /runs/x.ckpt`. */
  readonly problem: string;
  readonly expected: string;
  /** The host's own code or name, e.g. `ENOSPC`, `QuotaExceededError`. */
  readonly got: string;
  /** What the user can do about it, shown in parentheses at the end. */
  readonly hint?: string;
  /** Who was writing: the operation itself unless a component wrapped it ({@link inComponent}). */
  readonly component?: string;
  readonly cause?: unknown;
}

/**
 * A file-system fault from the host, mapped to one code on every platform. The message
 * reads `<component>: <what is wrong>; expected <x>, got <host code> (<hint>)`.
 *
 * @example
 * try { await getPlatform().writeFile('/runs/x.ckpt', bytes); }
 * catch (e) { if (e instanceof FileSystemError && e.code === 'ENOSPC') console.log(e.path); }
 * // writeFile: no space left on the device writing /runs/x.ckpt; expected room for 1.2 MB, got ENOSPC (free some space, or write elsewhere)
 */
export class FileSystemError extends LightningError {
  readonly code: FileSystemErrorCode;
  readonly path: string;
  readonly operation: FileSystemOperation;
  /** The operation, or the component that wrapped it (`ModelCheckpoint`, `CSVLogger`). */
  readonly component: string;
  readonly problem: string;
  readonly expected: string;
  readonly got: string;
  readonly hint: string | undefined;
  constructor(fault: FileSystemFault) {
    const component = fault.component ?? fault.operation;
    const hint = fault.hint === undefined ? '' : ` (${fault.hint})`;
    super(`${component}: ${fault.problem}; expected ${fault.expected}, got ${fault.got}${hint}`, {
      cause: fault.cause,
    });
    this.code = fault.code;
    this.path = fault.path;
    this.operation = fault.operation;
    this.component = component;
    this.problem = fault.problem;
    this.expected = fault.expected;
    this.got = fault.got;
    this.hint = fault.hint;
  }
}

/**
 * Rethrows `error` as the fault of `component`: a {@link FileSystemError} gets the component
 * as its message prefix (and `hint` in place of its own, when given), keeping `code`, `path`,
 * `operation` and `cause`. One already wrapped by a component keeps that (innermost) one;
 * anything else is rethrown unchanged.
 *
 * @example
 * try { await platform.writeFile(path, bytes); }
 * catch (e) { inComponent('ModelCheckpoint', e, { hint: 'free some space, or point dirpath elsewhere' }); }
 * // ModelCheckpoint: no space left on the device writing /runs/x.ckpt; expected room for 1.2 MB, got ENOSPC (free some space, or point dirpath elsewhere)
 */
export function inComponent(component: string, error: unknown, options?: { readonly hint?: string }): never {
  if (!(error instanceof FileSystemError) || error.component !== error.operation) throw error;
  const hint = options?.hint ?? error.hint;
  throw new FileSystemError({
    code: error.code,
    path: error.path,
    operation: error.operation,
    problem: error.problem,
    expected: error.expected,
    got: error.got,
    component,
    cause: error.cause,
    ...(hint === undefined ? {} : { hint }),
  });
}
