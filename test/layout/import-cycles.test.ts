/**
 * @module import-cycles.test — runtime/ imports form no new cycle, and runtime/tensor/ none at all.
 *
 * DESIGN.md: the tensor op files are a one-way chain under `Tensor`. scripts/import-cycles.mjs
 * builds the run-time import graph (type-only imports are erased, so they do not count) and
 * finds its strongly connected components; `node scripts/import-cycles.mjs` prints them.
 * Known cycles elsewhere are listed in scripts/import-cycles.allow.json, which only shrinks.
 */
import { describe, expect, it } from 'vitest';
import {
  checkAllowList,
  cycles,
  importGraph,
  loopThrough,
  readAllowList,
  runtimeImports,
  subgraph,
} from '../../scripts/import-cycles.mjs';

describe('import cycles', () => {
  it('import cycles: type-only imports are not edges; inline `type` specifiers and re-exports are', () => {
    const source = [
      "import type { A } from './a.ts';",
      "import { type B, c } from './b.ts';",
      "import { type D } from './d.ts';",
      "export type { E } from './e.ts';",
      "export * from './f.ts';",
      "import './g.ts';",
      "export { h } from './h.ts';",
      "const i = await import('./i.ts');",
      "// import { j } from './j.ts';",
    ].join('\n');
    expect(runtimeImports(source)).toEqual(['./b.ts', './d.ts', './f.ts', './g.ts', './h.ts']);
  });

  it('import cycles: strongly connected components, with a loop through each', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', ['e']],
      ['e', ['d']],
      ['f', ['f']],
      ['g', ['a']],
    ]);
    const found = cycles(graph);
    expect(found).toEqual([['a', 'b', 'c'], ['d', 'e'], ['f']]);
    expect(loopThrough(graph, ['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'a']);
    expect(cycles(subgraph(graph, 'd'))).toEqual([]); // e is outside the subgraph, so d's loop is cut
  });

  it('import cycles: a new cycle fails, and so does an allow-list entry that shrank', () => {
    expect(checkAllowList([['x', 'y']], [['x', 'y']])).toEqual([]);
    expect(checkAllowList([['p', 'q']], [])[0]).toContain('a new cycle');
    expect(checkAllowList([['x', 'y']], [['x', 'y', 'z']])[0]).toContain('out of date');
    expect(checkAllowList([], [['x', 'y']])[0]).toContain('got no cycle');
  });

  const graph = importGraph('runtime');

  it('import cycles: the files of runtime/tensor/ import each other one way only', () => {
    const tensor = subgraph(graph, 'runtime/tensor/');
    expect(tensor.size).toBeGreaterThan(1);
    const loops = cycles(tensor).map((c) => loopThrough(tensor, c).join(' -> '));
    expect(loops, `runtime/tensor/ import cycles: ${loops.join('; ')}`).toEqual([]);
  });

  it('import cycles: every cycle in runtime/ is on the allow-list, and the allow-list is current', () => {
    expect(graph.size).toBeGreaterThan(50);
    const problems = checkAllowList(cycles(graph), readAllowList());
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
