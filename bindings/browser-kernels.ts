/**
 * @module browser-kernels — where `lightning-ts` and `lightning-ts/manual` find the kernels.
 *
 * Each build is named by a literal `new URL('../build/kernels-<variant>.wasm', import.meta.url)`.
 * Bundlers recognise exactly that pattern (Vite, webpack 5 asset modules, Rollup, Parcel): they
 * copy the file into the app's build, usually under a hashed name, and rewrite the URL. Unbundled,
 * it resolves from `dist/lightning-ts.browser.js` (or `bindings/browser.ts`) to the package's
 * `build/` folder. Two layouts leave the URL unrewritten one folder off, and are recognised by
 * where it points, so that no request fails (and `import.meta.url` appears only inside the
 * pattern: webpack would inline any other use as the build machine's file path):
 * - tsc's `dist/bindings/*.js` (the runtime smoke) points at `dist/build/`; the kernels are in
 *   the package's `build/` beside `dist/`;
 * - Vite 7 and older's dev server copies dependencies into `node_modules/.vite/deps/` without
 *   rewriting `new URL`, so it points at `node_modules/.vite/build/`, where its index.html would
 *   answer; the package is `node_modules/lightning-ts/` beside `.vite/`. Vite 8 rewrites the URL.
 */
import type { KernelVariant } from '../runtime/platform.ts';
import { kernelFileName } from '../runtime/setup.ts';
import { fetchKernelBytes } from './browser-platform.ts';
import { PACKAGE_NAME } from './package-root.ts';

/**
 * The URL the default kernels are fetched from.
 * @example defaultKernelUrl('simd').href // 'https://app.example/assets/kernels-simd-3f2a.wasm' after a Vite build
 */
export function defaultKernelUrl(variant: KernelVariant): URL {
  const url =
    variant === 'relaxed'
      ? new URL('../build/kernels-relaxed.wasm', import.meta.url)
      : new URL('../build/kernels-simd.wasm', import.meta.url);
  const file = kernelFileName(variant);
  if (url.pathname.endsWith(`/dist/build/${file}`)) return new URL(`../../build/${file}`, url);
  if (url.pathname.endsWith(`/node_modules/.vite/build/${file}`)) {
    return new URL(`../../${PACKAGE_NAME}/build/${file}`, url);
  }
  return url;
}

/**
 * Fetches the default kernel build (see {@link defaultKernelUrl}); a BackendError says what
 * came back when it is not wasm.
 * @example const bytes = await fetchDefaultKernels('simd');
 */
export function fetchDefaultKernels(variant: KernelVariant): Promise<Uint8Array> {
  return fetchKernelBytes(defaultKernelUrl(variant));
}
