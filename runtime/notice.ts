/**
 * @module notice — says once what a performance fallback fell back to.
 *
 * STYLE.md: never warn and carry on for a correctness problem; a performance
 * fallback (no SIMD, no GPU, an unfused path) says once what it fell back to.
 * `console` is Web-standard: Node, Deno and browsers all have it.
 */

const said = new Set<string>();

/**
 * Writes `message` to `console.info` the first time `key` is seen; later calls are silent.
 * @example noticeOnce('adam-composite', 'Adam: a non-contiguous parameter runs the unfused update')
 */
export function noticeOnce(key: string, message: string): void {
  if (said.has(key)) return;
  said.add(key);
  console.info(`lightning-ts: ${message}`);
}

/** Whether `key` has been said (for tests). */
export function wasNoticed(key: string): boolean {
  return said.has(key);
}
