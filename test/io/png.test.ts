/**
 * @module io/png.test — the PNG encoder, decoded back by the test reader
 * (signature, chunk CRCs, IHDR, inflated IDAT) for every channel count.
 */
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../runtime/errors.ts';
import { encodePng, toUint8 } from '../../runtime/io/png.ts';
import { decodePng } from '../helpers/tfevents-reader.ts';

describe('png', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    it(`png: ${channels}-channel pixels survive a round trip`, async () => {
      const width = 7;
      const height = 5; // odd sizes: no row happens to align
      const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) & 0xff);
      const png = await encodePng({ width, height, channels, data });
      const back = await decodePng(png);
      expect(back).toMatchObject({ width, height, channels });
      expect(Array.from(back.data)).toEqual(Array.from(data));
    });
  }

  it('png: writes the IHDR fields of the spec', async () => {
    const png = await encodePng({ width: 3, height: 2, channels: 3, data: new Uint8Array(18) });
    const view = new DataView(png.buffer, png.byteOffset);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(view.getUint32(8)).toBe(13);
    expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25], png[26], png[27], png[28]]).toEqual([
      3, 2, 8, 2, 0, 0, 0,
    ]);
    expect(new TextDecoder().decode(png.subarray(png.length - 8, png.length - 4))).toBe('IEND');
  });

  it('png: rejects a wrong data length and channel count', async () => {
    await expect(encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).rejects.toThrow(ValueError);
    await expect(encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).rejects.toThrow(
      /expected 2x2x3 = 12 bytes, got 11/,
    );
    await expect(encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) })).rejects.toThrow(
      /invalid size/,
    );
    await expect(encodePng({ width: 1, height: 1, channels: 5 as 4, data: new Uint8Array(5) })).rejects.toThrow(
      /expected 1, 2, 3 or 4, got 5/,
    );
  });

  it('png: toUint8 scales floats by 255, clips and truncates as torch does', () => {
    expect(Array.from(toUint8([0, 0.5, 1, -0.2, 1.7, Number.NaN], 'float'))).toEqual([0, 127, 255, 0, 255, 0]);
    expect(Array.from(toUint8([0, 12.9, 255, 300], 'uint8'))).toEqual([0, 12, 255, 255]);
  });
});
