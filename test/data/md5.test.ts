/**
 * @module data/md5.test — MD5 against the RFC 1321 test suite and node:crypto.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from '../../runtime/data/md5.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('md5', () => {
  it('md5: matches the RFC 1321 appendix A.5 test suite', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    for (const [input, digest] of suite) expect(md5(text(input))).toBe(digest);
  });

  it('md5: agrees with node:crypto at every padding boundary and on a view', () => {
    for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_003]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
      expect(md5(bytes)).toBe(createHash('md5').update(bytes).digest('hex'));
    }
    const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const view = big.subarray(5, 205);
    expect(md5(view)).toBe(createHash('md5').update(view).digest('hex'));
  });
});
