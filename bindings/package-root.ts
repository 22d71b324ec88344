/**
 * @module package-root — finds the lightning-ts package folder from a binding's own URL.
 *
 * A binding runs from source (`<root>/bindings/node.ts`), compiled
 * (`<root>/dist/bindings/node.js`) or bundled (`<root>/dist/lightning-ts.node.js`, what the
 * package's exports name); the kernels live in `<root>/build/`.
 * No host APIs here: each binding passes its own way to read a file.
 */
import type { KernelVariant } from '../runtime/platform.ts';
import { kernelFileName } from '../runtime/setup.ts';

/** The `name` in our package.json; the walk stops at the folder that has it. */
export const PACKAGE_NAME = 'lightning-ts';

/**
 * The package root implied by the binding's layout: two folders up from
 * `dist/bindings/x.js`, one folder up from `bindings/x.ts`.
 *
 * @example
 * layoutPackageRoot('file:///p/dist/bindings/node.js').href // 'file:///p/'
 * layoutPackageRoot('https://h/app/bindings/browser.ts').href // 'https://h/app/'
 */
export function layoutPackageRoot(moduleUrl: string | URL): URL {
  const url = new URL(moduleUrl);
  return /\/dist\/bindings\/[^/]*$/.test(url.pathname) ? new URL('../../', url) : new URL('../', url);
}

/**
 * Walks up from the folder of `moduleUrl` to the first folder whose
 * package.json names lightning-ts; falls back to {@link layoutPackageRoot}.
 *
 * @example
 * await findPackageRoot(import.meta.url, (u) => readFile(u, 'utf8').catch(() => undefined))
 */
export async function findPackageRoot(
  moduleUrl: string | URL,
  readText: (url: URL) => Promise<string | undefined>,
): Promise<URL> {
  let dir = new URL('./', moduleUrl);
  for (let depth = 0; depth < 16; depth++) {
    const text = await readText(new URL('package.json', dir));
    if (text !== undefined && packageName(text) === PACKAGE_NAME) return dir;
    const parent = new URL('../', dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  return layoutPackageRoot(moduleUrl);
}

/**
 * The URL of a kernel build inside the package.
 * @example kernelUrlInPackage(new URL('file:///p/'), 'simd').href // 'file:///p/build/kernels-simd.wasm'
 */
export function kernelUrlInPackage(root: URL, variant: KernelVariant): URL {
  return new URL(`build/${kernelFileName(variant)}`, root);
}

function packageName(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as { name?: unknown }).name : undefined;
  } catch {
    return undefined;
  }
}
