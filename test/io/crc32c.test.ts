/**
 * @module io/crc32c.test — CRC-32C against RFC 3720's vectors, the TFRecord mask,
 * and the bit-by-bit reader's CRC on random data.
 */
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc32c } from '../../runtime/io/crc32c.ts';
import { slowCrc32c } from '../helpers/tfevents-reader.ts';

const hex = (s: string): Uint8Array =>
  new Uint8Array(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );

describe('crc32c', () => {
  it('crc32c: matches RFC 3720 appendix B.4', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    const iscsiRead = hex(`01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 00 00 00 00 00 04 00
      00 00 00 14 00 00 00 18 28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`);
    expect(crc32c(iscsiRead)).toBe(0xd9963a56);
  });

  it('crc32c: the check value of "123456789" and of nothing', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('crc32c: continues across chunks', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    expect(crc32c(data.subarray(300), crc32c(data.subarray(0, 300)))).toBe(crc32c(data));
  });

  it('crc32c: agrees with the bit-by-bit implementation on odd lengths', () => {
    let seed = 12345;
    for (const n of [1, 3, 17, 255, 1031]) {
      const data = Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expect(crc32c(data)).toBe(slowCrc32c(data));
    }
  });

  it('crc32c: the TFRecord mask rotates right 15 and adds 0xa282ead8', () => {
    expect(maskCrc32c(0)).toBe(0xa282ead8);
    expect(maskCrc32c(0x8000)).toBe((1 + 0xa282ead8) >>> 0);
    // Every TensorBoard file starts with a 24-byte file_version record, whose
    // length field (18 00 .. 00) is followed by the masked CRC a3 7f 4b 22.
    const length24 = new Uint8Array([24, 0, 0, 0, 0, 0, 0, 0]);
    expect(maskCrc32c(crc32c(length24))).toBe(0x224b7fa3);
  });
});
