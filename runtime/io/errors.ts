/**
 * @module io/errors — the typed error of the byte-format readers (IDX, gzip, ...).
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
