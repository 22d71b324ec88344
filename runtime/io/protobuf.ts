/**
 * @module io/protobuf — a minimal protocol-buffers encoder (wire format only).
 *
 * Enough for the messages TensorBoard reads: varints (int32/int64/uint64/bool/enum),
 * fixed32/fixed64 (float/double), length-delimited fields (bytes, strings,
 * nested messages) and packed repeated scalars. Field order and the omission of
 * proto3 defaults are the caller's choice; readers accept both.
 * See https://protobuf.dev/programming-guides/encoding/.
 */
import { ValueError } from '../errors.ts';

/** Wire types of the protobuf encoding. */
export type WireType = 0 | 1 | 2 | 5;

const TWO_POW_32 = 4294967296;
const UTF8 = new TextEncoder();

/**
 * Builds one message's bytes, field by field.
 * @example
 * const inner = new ProtoWriter().string(1, 'text').finish();
 * const bytes = new ProtoWriter().double(1, 1.5).int64(2, 7).message(5, inner).finish();
 */
export class ProtoWriter {
  #buf = new Uint8Array(64);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  /** A raw varint (no tag). Negative values are written as 64-bit two's complement (10 bytes), as int64/int32 are. */
  rawVarint(value: number | bigint): this {
    if (typeof value === 'bigint') {
      let v = BigInt.asUintN(64, value);
      while (v >= 0x80n) {
        this.#byte(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.#byte(Number(v));
      return this;
    }
    if (!Number.isSafeInteger(value)) {
      throw new ValueError(
        `protobuf: varint value is not a safe integer; expected an integer within ±2^53, got ${value}`,
      );
    }
    if (value < 0) return this.rawVarint(BigInt(value));
    let v = value;
    // Above 2^31 bit operators overflow; divide instead.
    while (v >= 0x80) {
      this.#byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.#byte(v);
    return this;
  }

  /** A field tag: `(field << 3) | wireType`. */
  tag(field: number, wire: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new ValueError(`protobuf: invalid field number; expected an integer in [1, 2^29-1], got ${field}`);
    }
    return this.rawVarint(field * 8 + wire);
  }

  /** An int32, int64, uint32, uint64 or enum field (varint). */
  varint(field: number, value: number | bigint): this {
    return this.tag(field, 0).rawVarint(value);
  }

  /** Alias of {@link varint} for int64 fields, e.g. Event.step. */
  int64(field: number, value: number | bigint): this {
    return this.varint(field, value);
  }

  /** A bool field. */
  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  /** A double field (fixed64, little-endian IEEE 754). */
  double(field: number, value: number): this {
    this.tag(field, 1);
    this.#reserve(8);
    this.#view.setFloat64(this.#len, value, true);
    this.#len += 8;
    return this;
  }

  /** A float field (fixed32, little-endian IEEE 754 single). */
  float(field: number, value: number): this {
    this.tag(field, 5);
    this.#reserve(4);
    this.#view.setFloat32(this.#len, value, true);
    this.#len += 4;
    return this;
  }

  /** A fixed32 field (unsigned, little-endian). */
  fixed32(field: number, value: number): this {
    this.tag(field, 5);
    this.#reserve(4);
    this.#view.setUint32(this.#len, value >>> 0, true);
    this.#len += 4;
    return this;
  }

  /** A fixed64 field (unsigned, little-endian). */
  fixed64(field: number, value: number | bigint): this {
    this.tag(field, 1);
    this.#reserve(8);
    const v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : null;
    if (v !== null) {
      this.#view.setBigUint64(this.#len, v, true);
    } else {
      const n = value as number;
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new ValueError(
          `protobuf: fixed64 value out of range; expected a non-negative safe integer or a bigint, got ${n}`,
        );
      }
      this.#view.setUint32(this.#len, n % TWO_POW_32, true);
      this.#view.setUint32(this.#len + 4, Math.floor(n / TWO_POW_32), true);
    }
    this.#len += 8;
    return this;
  }

  /** A bytes field (length-delimited). */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).rawVarint(data.length);
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
    return this;
  }

  /** A string field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, UTF8.encode(value));
  }

  /** An embedded message field: the finished bytes of another writer, or raw bytes. */
  message(field: number, message: ProtoWriter | Uint8Array): this {
    return this.bytes(field, message instanceof ProtoWriter ? message.finish() : message);
  }

  /** A packed repeated double field (omitted when empty, as proto3 does). */
  packedDouble(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, 2).rawVarint(values.length * 8);
    this.#reserve(values.length * 8);
    for (let i = 0; i < values.length; i++) {
      this.#view.setFloat64(this.#len, values[i]!, true);
      this.#len += 8;
    }
    return this;
  }

  /** A packed repeated float field (omitted when empty). */
  packedFloat(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, 2).rawVarint(values.length * 4);
    this.#reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      this.#view.setFloat32(this.#len, values[i]!, true);
      this.#len += 4;
    }
    return this;
  }

  /** A packed repeated varint field (int32/int64/enum; omitted when empty). */
  packedVarint(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const body = new ProtoWriter();
    for (let i = 0; i < values.length; i++) body.rawVarint(values[i]!);
    return this.bytes(field, body.finish());
  }

  /** The message's bytes (a copy; the writer may go on). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
