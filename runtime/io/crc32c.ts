/**
 * @module io/crc32c — CRC-32C (Castagnoli), the checksum of TFRecord framing.
 *
 * Table-driven over the reflected polynomial 0x82F63B78 (RFC 3720, appendix
 * B.4). TFRecord stores the checksum "masked" ({@link maskCrc32c}) because a
 * CRC of data that itself holds CRCs is weak (TensorFlow's crc32c.h).
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32C of `bytes`; pass a previous result as `crc` to continue over more bytes.
 * @example crc32c(new TextEncoder().encode('123456789')) // 0xe3069283
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8 (mod 2^32).
 * @example maskCrc32c(crc32c(bytes)) // what a TFRecord stores after `bytes`
 */
export function maskCrc32c(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
