// @module bench/load-runtime — transpiles runtime/ (without io/ and lightning/) into a cache
// folder and returns an importer, so a benchmark runs the TypeScript sources without build:ts.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Transpiles runtime/ into node_modules/.cache/lightning-ts-bench-<name>; `load('runtime/x.js')` imports a file. */
export function transpileRuntime(name) {
  const out = join(root, 'node_modules', '.cache', `lightning-ts-bench-${name}`);
  const walk = (dir) =>
    readdirSync(dir).flatMap((entry) => {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) return entry === 'io' || entry === 'lightning' ? [] : walk(p);
      return p.endsWith('.ts') ? [p] : [];
    });
  for (const file of walk(join(root, 'runtime'))) {
    const rel = relative(root, file);
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
      },
      fileName: rel,
    }).outputText;
    const dst = join(out, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, js);
  }
  return (path) => import(pathToFileURL(join(out, path)).href);
}
