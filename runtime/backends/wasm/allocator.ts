/**
 * @module backends/wasm/allocator — a JS-side allocator over a wasm linear memory.
 *
 * Blocks are 16-byte aligned and rounded to size classes (16-byte steps up to
 * 1 KiB, then eighths of a power of two), so a training step that frees and
 * re-allocates the same shapes reuses blocks in O(1) from exact-size bins. When
 * the bump region is exhausted it coalesces adjacent free blocks, tries first fit
 * (splitting), and only then grows the memory.
 */
import { BackendError } from '../../errors.ts';

const ALIGN = 16;
const PAGE = 65536;

/**
 * The size class that a request of `bytes` is rounded up to.
 * @example sizeClass(100) // 112; sizeClass(5000) // 5120
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 1024) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/**
 * Free-list allocator; `onGrow` runs after every `memory.grow` so callers refresh views.
 * @example
 * const a = new WasmAllocator(memory, 1024, () => {});
 * const p = a.alloc(100); a.free(p, 100);
 */
export class WasmAllocator {
  /** Free blocks by exact size. */
  private readonly bins = new Map<number, number[]>();
  private top: number;
  private readonly memory: WebAssembly.Memory;
  private readonly onGrow: () => void;

  constructor(memory: WebAssembly.Memory, base: number, onGrow: () => void) {
    this.memory = memory;
    this.onGrow = onGrow;
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Bytes from the first block to the bump pointer. */
  get highWater(): number {
    return this.top;
  }

  /** A 16-byte aligned block of at least `bytes` bytes (its contents are not cleared). */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const bin = this.bins.get(size);
    if (bin !== undefined && bin.length > 0) return bin.pop() as number;
    if (this.top + size > this.memory.buffer.byteLength) {
      const fit = this.coalesceAndFit(size);
      if (fit !== -1) return fit;
      if (this.top + size > this.memory.buffer.byteLength) this.grow(this.top + size);
    }
    const ptr = this.top;
    this.top += size;
    return ptr;
  }

  /**
   * Returns the block at `ptr` that was allocated with `bytes`. The caller guarantees
   * it is live (the backend tracks that on its handles, so double frees never get here).
   */
  free(ptr: number, bytes: number): void {
    this.pushFree(ptr, sizeClass(bytes));
  }

  private pushFree(ptr: number, size: number): void {
    let bin = this.bins.get(size);
    if (bin === undefined) {
      bin = [];
      this.bins.set(size, bin);
    }
    bin.push(ptr);
  }

  /** Merges adjacent free blocks, lowers the bump pointer, then finds a first fit for `size`. */
  private coalesceAndFit(size: number): number {
    const blocks: [number, number][] = [];
    for (const [size, ptrs] of this.bins) for (const p of ptrs) blocks.push([p, size]);
    blocks.sort((x, y) => x[0] - y[0]);
    this.bins.clear();
    const merged: [number, number][] = [];
    for (const [p, s] of blocks) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[0] + last[1] === p) last[1] += s;
      else merged.push([p, s]);
    }
    const tail = merged[merged.length - 1];
    if (tail !== undefined && tail[0] + tail[1] === this.top) {
      this.top = tail[0];
      merged.pop();
    }
    let found = -1;
    for (const [p, s] of merged) {
      if (found === -1 && s >= size) {
        found = p;
        if (s > size) this.pushFree(p + size, s - size);
      } else {
        this.pushFree(p, s);
      }
    }
    return found;
  }

  private grow(needEnd: number): void {
    const have = this.memory.buffer.byteLength;
    const want = Math.max(needEnd, have + (have >> 1));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch (cause) {
      try {
        // The 1.5x headroom may be what does not fit; try the exact need once.
        this.memory.grow(Math.ceil((needEnd - have) / PAGE));
      } catch {
        throw new BackendError(
          `wasm: out of memory; expected the linear memory to grow to ${needEnd} bytes, got a refusal at ${have} bytes`,
          { cause },
        );
      }
    }
    this.onGrow();
  }
}
