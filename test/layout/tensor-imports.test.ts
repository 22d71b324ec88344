/**
 * @module layout/tensor-imports.test — code outside `runtime/tensor/` reaches tensors only
 * through `runtime/tensor/index.ts`.
 *
 * `tensor/tensor.ts` declares the op methods (`x.add(y)`, `x.sum()`, ...) and
 * `tensor/methods.ts` installs them; `tensor/index.ts` imports `methods.ts` first. A module
 * that imported `tensor/tensor.ts` or an op file directly could make tensors before anything
 * installed their methods, so every import from outside the folder goes through the index.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TENSOR_DIR = resolve(ROOT, 'runtime/tensor');
const SCANNED = ['runtime', 'bindings', 'test', 'examples'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative module specifier in `source` (static imports, re-exports, dynamic imports). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) found.push(m[1]!);
  return found;
}

/** The files outside runtime/tensor/ that import a file of that folder other than its index. */
function directTensorImports(): string[] {
  const bad: string[] = [];
  for (const dir of SCANNED) {
    for (const file of walk(join(ROOT, dir))) {
      if (file.startsWith(TENSOR_DIR + '/')) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec);
        if (target.startsWith(TENSOR_DIR + '/') && target !== join(TENSOR_DIR, 'index.ts')) {
          bad.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
        }
      }
    }
  }
  return bad;
}

describe('layout', () => {
  it('layout: the specifier scan finds static, re-export and dynamic imports', () => {
    const src =
      "import { a } from '../x.ts';\nexport * from './y.ts';\nconst z = await import('../../z.ts');\nimport type { T } from './t.ts';";
    expect(specifiers(src)).toEqual(['../x.ts', './y.ts', '../../z.ts', './t.ts']);
  });

  it('layout: code outside runtime/tensor/ imports tensors only through runtime/tensor/index.ts', () => {
    expect(directTensorImports()).toEqual([]);
  });

  it('layout: the index installs the op methods on every tensor', async () => {
    const { Tensor } = await import('../../runtime/tensor/index.ts');
    for (const name of ['add', 'sum', 'matmul', 'gather', 'to', 'add_', 'max', 'softmax'] as const) {
      expect(typeof Tensor.prototype[name]).toBe('function');
      expect(Object.getOwnPropertyDescriptor(Tensor.prototype, name)?.enumerable).toBe(false);
    }
  });
});
