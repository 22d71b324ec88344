/**
 * @module line-budget.test — each folder of runtime/, bindings/ and assembly/ stays within its
 * line budget (scripts/line-budget.json).
 *
 * Code lines are counted without comments and blank lines by scripts/line-budget.mjs, which
 * also prints the table (`node scripts/line-budget.mjs`) and rewrites the budgets
 * (`--update`). Budgets only go down: CONTRIBUTING.md says when one may go up.
 */
import { describe, expect, it } from 'vitest';
import { check, countCodeLines, measure, readBudget, withMargin } from '../../scripts/line-budget.mjs';

describe('line budget', () => {
  it('line budget: comments and blank lines do not count', () => {
    const source = [
      '/**',
      ' * @module x — JSDoc lines are comments.',
      ' */',
      "import { a } from './a.ts'; // a trailing comment keeps its line",
      '',
      '   ',
      '// a line comment',
      '/* a block */ const b = 1; /* and another */',
      'const c = 2; /* a block',
      '   that spans lines */',
      '/* one */ /* two */',
    ].join('\n');
    expect(countCodeLines(source)).toBe(3);
  });

  it('line budget: comment markers inside strings, templates and regexes are code', () => {
    const source = [
      'const url = \'http://example.com\'; const glob = "a/*b";',
      'const wgsl = `',
      '  // a WGSL comment is part of the string',
      '',
      '  x = ${y /* a real comment */ + 1} /* text */;',
      '`;',
      'const re = /\\/\\*[^*/]*\\//g; const half = n / 2 / 3;',
      'const z = w! / 2; // division after a non-null assertion',
      'const after = 1;',
    ].join('\n');
    // The blank line inside the template literal holds nothing, so it does not count.
    expect(countCodeLines(source)).toBe(8);
  });

  it('line budget: --update leaves 2% headroom, at least 5 lines', () => {
    expect(withMargin(1000)).toBe(1020);
    expect(withMargin(100)).toBe(105);
    expect(withMargin(1001)).toBe(1022);
  });

  it('line budget: a folder over budget or without one is named, with the excess', () => {
    const measured = [
      { folder: 'runtime/nn/', files: 3, lines: 120 },
      { folder: 'runtime/new/', files: 1, lines: 10 },
      { folder: 'runtime/io/', files: 2, lines: 50 },
    ];
    const problems = check(measured, { 'runtime/nn/': 100, 'runtime/io/': 50 });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('runtime/nn/ is 20 code lines over budget; expected at most 100, got 120');
    expect(problems[1]).toContain('runtime/new/ has no budget');
    expect(check(measured, null)[0]).toContain('scripts/line-budget.json is missing');
  });

  it('line budget: every folder of runtime/, bindings/ and assembly/ is within its budget', () => {
    const measured = measure();
    expect(measured.map((m) => m.folder)).toContain('runtime/tensor/');
    const problems = check(measured, readBudget());
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
