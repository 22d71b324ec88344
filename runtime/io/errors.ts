/**
 * @module io/errors — the typed errors of the byte-format readers (IDX, gzip, zip, pickle, ...).
 */
import { LightningError } from '../errors.ts';

/**
 * Bytes that do not follow their format: a bad magic number, a truncated
 * header or body, trailing bytes, a corrupt gzip stream.
 * @example
 * try { parseIdx(bytes); } catch (e) { if (e instanceof FormatError) console.error(e.message); }
 * // idx: truncated data; expected 784 bytes for shape [1,28,28] uint8, got 700
 */
export class FormatError extends LightningError {}

/**
 * A file that asks a reader for more than one of its limits allows (bytes to allocate,
 * nesting depth, pickle items, integer size). The file may be valid; `limit` names the
 * reader option that raises the bound, e.g. `maxBytes`.
 * @example
 * try { await loadTorch(bytes); } catch (e) { if (e instanceof LimitError) console.error(e.limit, e.max); }
 * // torch-ckpt: tensor data exceeds the maxBytes limit; expected at most 268435456 bytes (raise it with the maxBytes option), got 4398046511104
 */
export class LimitError extends FormatError {
  /** The option that bounds this, e.g. `'maxBytes'`. */
  readonly limit: string;
  /** The bound in force. */
  readonly max: number;
  constructor(reader: string, what: string, limit: string, max: number, got: number | string, unit = '') {
    const u = unit === '' ? '' : ` ${unit}`;
    super(
      `${reader}: ${what} exceeds the ${limit} limit; expected at most ${max}${u} (raise it with the ${limit} option), got ${got}${u}`,
    );
    this.limit = limit;
    this.max = max;
  }
}
