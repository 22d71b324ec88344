/**
 * @module package/tarball.test — the published tarball holds what users need and nothing else.
 *
 * `npm pack --dry-run --json` lists the files `files` in package.json selects. Users need the
 * three bundles the exports map names, the declarations (entry .d.ts files, dist/runtime/**
 * .d.ts, bindings/mnist.d.ts), the kernels, LICENSE and README; they do not need the compiled
 * tests and examples, source maps, or the TypeScript sources (Deno loads its own bundle).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../helpers/child-process.ts';
import { ensureBuilt, npm, type PackReport, parsePackJson, ROOT } from './packed.ts';

const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/lightning-ts.node.js',
  'dist/lightning-ts.browser.js',
  'dist/lightning-ts.deno.js',
  'dist/bindings/node.d.ts',
  'dist/bindings/browser.d.ts',
  'dist/bindings/deno.d.ts',
  'dist/runtime/index.d.ts',
  'bindings/mnist.d.ts',
  'build/kernels-simd.wasm',
  'build/kernels-relaxed.wasm',
];

/** Every file path an exports map names (its leaves). */
function exportTargets(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (typeof node !== 'object' || node === null) return [];
  return Object.values(node).flatMap(exportTargets);
}

/** The relative specifiers a declaration file imports or references (doc comments left out). */
function declarationLinks(text: string): string[] {
  const links: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
  for (const m of code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) links.push(m[1]!);
  for (const m of code.matchAll(/^\/\/\/\s*<reference path="([^"]+)"/gm)) links.push(m[1]!);
  return links;
}

describe('package: tarball', () => {
  let report: PackReport;
  let paths: string[];

  beforeAll(async () => {
    await ensureBuilt();
    const r = await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    if (r.code !== 0) throw new Error(describeRun('package: npm pack --dry-run failed; expected exit 0', r));
    report = parsePackJson(r.stdout)[0]!;
    paths = report.files.map((f) => f.path).sort();
  });

  it('tarball: holds the bundles, declarations, kernels, LICENSE, README and package.json', () => {
    for (const path of REQUIRED) expect(paths, `the tarball's files`).toContain(path);
  });

  it('tarball: ships no tests, examples, source maps or TypeScript sources', () => {
    const unwanted = paths.filter(
      (p) =>
        /^(dist\/)?(test|examples|bench|scripts)\//.test(p) ||
        p.endsWith('.map') ||
        /^(runtime|assembly)\//.test(p) ||
        (p.endsWith('.ts') && !p.endsWith('.d.ts')) ||
        (/^dist\/(bindings|runtime)\//.test(p) && p.endsWith('.js')),
    );
    expect(unwanted).toEqual([]);
  });

  it('tarball: every file the exports map names is in it', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: unknown };
    const targets = exportTargets(manifest.exports).map((t) => normalize(t));
    expect(targets.length).toBeGreaterThanOrEqual(7);
    for (const target of targets) expect(paths, `exports target ${target}`).toContain(target);
  });

  it('tarball: the declarations are closed (every relative import and reference of a shipped .d.ts is shipped)', () => {
    const shipped = new Set(paths);
    const dangling: string[] = [];
    for (const path of paths.filter((p) => p.endsWith('.d.ts'))) {
      for (const link of declarationLinks(readFileSync(join(ROOT, path), 'utf8'))) {
        const target = normalize(join(dirname(path), link));
        const declaration = target.endsWith('.d.ts') ? target : target.replace(/\.(ts|js)$/, '.d.ts');
        if (!shipped.has(declaration)) dangling.push(`${path} -> ${link}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  it('tarball: webgpu (Dawn) is an optional peer, not installed by default, and a devDependency here', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    expect(manifest['dependencies']?.['webgpu']).toBeUndefined();
    expect(manifest['optionalDependencies']?.['webgpu']).toBeUndefined();
    expect(manifest['peerDependencies']?.['webgpu']).toBeDefined();
    expect(manifest['peerDependenciesMeta']?.['webgpu']).toEqual({ optional: true });
    expect(manifest['devDependencies']?.['webgpu']).toBeDefined();
  });
});
