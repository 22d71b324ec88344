/**
 * @module data/md5 — MD5 (RFC 1321), to check downloads against torchvision's checksums.
 *
 * Web Crypto has no MD5, so this small pure implementation exists. It is an
 * integrity check for known files, not a security measure.
 */

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4,
  11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

// K[i] = floor(|sin(i + 1)| * 2^32), RFC 1321 section 3.4.
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) >>> 0);

/**
 * The MD5 digest of `bytes`, as 32 lowercase hex digits.
 * @example md5(new TextEncoder().encode('abc')) // '900150983cd24fb0d6963f7d28e17f72'
 */
export function md5(bytes: Uint8Array): string {
  const n = bytes.length;
  const blocks = Math.floor((n + 8) / 64) + 1;
  const tail = new Uint8Array((blocks - Math.floor(n / 64)) * 64);
  tail.set(bytes.subarray(Math.floor(n / 64) * 64));
  tail[n % 64] = 0x80;
  const tailView = new DataView(tail.buffer);
  const bits = n * 8;
  tailView.setUint32(tail.length - 8, bits >>> 0, true);
  tailView.setUint32(tail.length - 4, Math.floor(bits / 0x100000000) >>> 0, true);

  let a0 = 0x67452301,
    b0 = 0xefcdab89,
    c0 = 0x98badcfe,
    d0 = 0x10325476;
  const m = new Uint32Array(16);
  const full = Math.floor(n / 64);
  const mainView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let block = 0; block < blocks; block++) {
    const [view, base] = block < full ? [mainView, block * 64] : [tailView, (block - full) * 64];
    for (let j = 0; j < 16; j++) m[j] = view.getUint32(base + 4 * j, true);
    let a = a0,
      b = b0,
      c = c0,
      d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i]! + m[g]!) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << S[i]!) | (sum >>> (32 - S[i]!)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  let hex = '';
  for (const word of [a0, b0, c0, d0]) {
    for (let k = 0; k < 4; k++) hex += ((word >>> (8 * k)) & 0xff).toString(16).padStart(2, '0');
  }
  return hex;
}
