// @module import-cycles — the runtime import graph of runtime/ and its cycles (strongly
// connected components).
//
// An edge is a static `import ... from './x.ts'`, a bare `import './x.ts'` or an
// `export ... from './x.ts'`. `import type` and `export type` are erased by the compiler
// and are not edges; `import { type X, Y }` is one, and so is `import { type X }` alone
// (verbatimModuleSyntax keeps it as `import {} from`, which still evaluates the module).
// Dynamic `import()` runs later, so it is not an edge either.
//
//   node scripts/import-cycles.mjs [folder]   prints each cycle: its files and one loop through them
//   node scripts/import-cycles.mjs --json     the components as JSON
//   node scripts/import-cycles.mjs --update   rewrites scripts/import-cycles.allow.json to today's cycles
//
// test/layout/import-cycles.test.ts fails on any cycle among runtime/tensor/ files, on a cycle
// that the allow-list does not hold, and on allow-list entries that no longer exist (the list
// only shrinks).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ALLOW_FILE = join(ROOT, 'scripts', 'import-cycles.allow.json');

const toPosix = (p) => p.split(sep).join('/');

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The modules `source` evaluates before itself: relative specifiers of its value imports and
 * re-exports, in source order.
 * @example runtimeImports("import type { A } from './a.ts';\nimport { type B, c } from './b.ts';") // ['./b.ts']
 */
export function runtimeImports(source, fileName = 'x.ts') {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      if (st.importClause?.isTypeOnly) continue;
      if (ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly || st.moduleSpecifier === undefined) continue;
      if (ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(st)) {
      if (
        !st.isTypeOnly &&
        ts.isExternalModuleReference(st.moduleReference) &&
        ts.isStringLiteral(st.moduleReference.expression)
      ) {
        out.push(st.moduleReference.expression.text);
      }
    }
  }
  return out;
}

/** The import graph of the `.ts` files under `folder`: repo-relative path -> the files it imports, in that folder. */
export function importGraph(folder = 'runtime', root = ROOT) {
  const files = walk(join(root, folder), []).sort();
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const edges = [];
    for (const spec of runtimeImports(readFileSync(file, 'utf8'), file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (known.has(target) && !edges.includes(target)) edges.push(toPosix(relative(root, target)));
    }
    graph.set(toPosix(relative(root, file)), edges);
  }
  return graph;
}

/** The graph restricted to nodes whose path starts with `prefix` (edges leaving it dropped). */
export function subgraph(graph, prefix) {
  const out = new Map();
  for (const [node, edges] of graph)
    if (node.startsWith(prefix))
      out.set(
        node,
        edges.filter((e) => e.startsWith(prefix)),
      );
  return out;
}

/**
 * The cycles of `graph`: its strongly connected components with more than one file (or a
 * file that imports itself), each sorted, largest first. Tarjan's algorithm, iterative.
 */
export function cycles(graph) {
  let counter = 0;
  const index = new Map(),
    low = new Map(),
    onStack = new Set(),
    stack = [],
    out = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, counter);
    low.set(start, counter);
    counter++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const [node, i] = top;
      const edges = graph.get(node) ?? [];
      if (i < edges.length) {
        top[1]++;
        const next = edges[i];
        if (!graph.has(next)) continue;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter);
          counter++;
          stack.push(next);
          onStack.add(next);
          work.push([next, 0]);
        } else if (onStack.has(next)) {
          low.set(node, Math.min(low.get(node), index.get(next)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1 || edges.includes(node)) out.push(component.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
}

/** One shortest loop through `component`, starting and ending at its first file. */
export function loopThrough(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = node; at !== null && at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** The allowed cycles (sorted file lists), or [] when the allow-list file does not exist. */
export function readAllowList(file = ALLOW_FILE) {
  if (!existsSync(file)) return [];
  const json = JSON.parse(readFileSync(file, 'utf8'));
  return (json.cycles ?? json).map((c) => [...c].sort());
}

/**
 * The problems with `found` against `allowed`, one sentence each: a cycle with a file no
 * allowed cycle holds, and an allowed cycle that is gone or smaller (the list only shrinks).
 */
export function checkAllowList(found, allowed) {
  const problems = [];
  const file = 'scripts/import-cycles.allow.json';
  for (const c of found) {
    const home = allowed.find((a) => c.every((f) => a.includes(f)));
    if (home === undefined) {
      problems.push(
        `import cycles: a new cycle; expected no cycle outside ${file}, got [${c.join(', ')}] (break it, e.g. with an import type or by moving the shared code down a layer)`,
      );
    }
  }
  for (const a of allowed) {
    const now = found.filter((c) => c.every((f) => a.includes(f)));
    const key = (x) => x.join('\n');
    if (now.length !== 1 || key(now[0]) !== key(a)) {
      const got = now.length === 0 ? 'no cycle' : now.map((c) => `[${c.join(', ')}]`).join(' and ');
      problems.push(
        `import cycles: ${file} is out of date (a cycle shrank or went away); expected [${a.join(', ')}], got ${got} (run node scripts/import-cycles.mjs --update and commit the shorter list)`,
      );
    }
  }
  return problems;
}

function print(graph, found) {
  if (found.length === 0) {
    console.log(`import-cycles: no cycle among ${graph.size} files`);
    return;
  }
  console.log(`import-cycles: ${found.length} cycle${found.length === 1 ? '' : 's'} among ${graph.size} files`);
  for (const c of found) {
    console.log(`\n${c.length} files:`);
    for (const f of c) console.log(`  ${f}`);
    console.log(`  loop: ${loopThrough(graph, c).join(' -> ')}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const folder = args.find((a) => !a.startsWith('--')) ?? 'runtime';
  const graph = importGraph(folder);
  const found = cycles(graph);
  if (args.includes('--update')) {
    const body = {
      comment:
        'Known import cycles in runtime/ (strongly connected components). This list only shrinks: see CONTRIBUTING.md.',
      cycles: found,
    };
    writeFileSync(ALLOW_FILE, JSON.stringify(body, null, 2) + '\n');
    console.log(`import-cycles: wrote ${relative(ROOT, ALLOW_FILE)} (${found.length} cycles)`);
  } else if (args.includes('--json')) {
    console.log(
      JSON.stringify(
        found.map((c) => ({ files: c, loop: loopThrough(graph, c) })),
        null,
        2,
      ),
    );
  } else {
    print(graph, found);
  }
}
