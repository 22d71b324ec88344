/**
 * @module index — the kernel module's flat exports, `<op>_<dtype>`, over one linear memory.
 * Memory is managed from the host: it allocates from `heap_base()` upward and grows
 * the exported memory itself. Kernels never allocate.
 */
export * from './unary';
export * from './binary';
export * from './activation-backward';
export * from './movement';
export * from './reduce';
export * from './indexing';
export * from './matmul';
export * from './conv';
export * from './optim';
export * from './random';

/** First byte the host may use. */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 in the relaxed-simd build, 0 in the plain simd128 build. */
export function kernel_variant(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
