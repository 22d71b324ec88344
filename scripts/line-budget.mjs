// @module line-budget — code lines per folder of runtime/, bindings/ and assembly/, against
// the budgets in scripts/line-budget.json (tinygrad's line-count gate, per folder).
//
// A code line is a line with something on it besides whitespace and comments: `//` and
// `/* */` comments (JSDoc included) and blank lines do not count; lines inside string and
// template literals (WGSL sources) do. Each folder counts only its own files, not its
// subfolders, so runtime/ is the root files alone and runtime/backends/webgpu/kernels/ has
// its own budget beside runtime/backends/webgpu/.
//
//   node scripts/line-budget.mjs            the table: folder, files, code lines, budget, slack
//   node scripts/line-budget.mjs --update   rewrites the budget file to today's lines + 2%
//
// test/layout/line-budget.test.ts fails when a folder is over its budget or has none.
// Budgets only go down; see CONTRIBUTING.md.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUDGET_FILE = join(ROOT, 'scripts', 'line-budget.json');
/** The trees whose folders have budgets. */
export const TREES = ['runtime', 'bindings', 'assembly'];
const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
/** Headroom `--update` leaves over today's count: 2%, and at least 5 lines. */
export function withMargin(lines) {
  return lines + Math.max(5, Math.ceil(lines * 0.02));
}

// After one of these a `/` starts a regular expression, not a division.
const REGEX_AFTER_CHAR = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

/**
 * How many lines of `source` hold code: not blank, not only comments.
 * @example countCodeLines('/** doc *\/\nconst a = 1; // one\n\n') // 1
 */
export function countCodeLines(source) {
  return codeLines(source).size;
}

/** The 0-based numbers of the lines of `source` that hold code. */
export function codeLines(source) {
  const code = new Set(); // line numbers with a code character
  const stack = []; // 'brace' or 'template' for each open `{` / `${` in code
  let line = 0;
  let lastChar = ''; // last code character outside comments, for the regex rule
  let lastWord = '';
  let i = 0;
  const n = source.length;
  const mark = () => code.add(line);
  // Scans a template literal's text from i (just past the backtick or the closing `}` of
  // a `${}`) to its end or to the next `${`.
  const template = () => {
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        mark();
        i += 2;
        continue;
      }
      if (c === '\n') {
        line++;
        i++;
        continue;
      }
      if (c === '`') {
        mark();
        i++;
        lastChar = '`';
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        mark();
        i += 2;
        stack.push('template');
        lastChar = '{';
        return;
      }
      if (c !== ' ' && c !== '\t' && c !== '\r') mark();
      i++;
    }
  };
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
      i++;
      continue;
    }
    if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      i += 2;
      while (i < n && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') line++;
        i++;
      }
      i += 2;
      continue;
    }
    mark();
    if (c === "'" || c === '"') {
      i++;
      while (i < n && source[i] !== c && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      if (source[i] === c) i++;
      lastChar = c;
      lastWord = '';
      continue;
    }
    if (c === '`') {
      i++;
      template();
      lastWord = '';
      continue;
    }
    if (c === '/' && (lastChar === '' || REGEX_AFTER_CHAR.has(lastChar) || REGEX_AFTER_WORD.has(lastWord))) {
      i++;
      let inClass = false;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') {
          i += 2;
          continue;
        }
        if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      if (source[i] === '/') i++;
      while (i < n && /[a-z]/i.test(source[i])) i++; // flags
      lastChar = '/';
      lastWord = '';
      continue;
    }
    if (c === '{') {
      stack.push('brace');
      i++;
      lastChar = c;
      lastWord = '';
      continue;
    }
    if (c === '}') {
      i++;
      if (stack.pop() === 'template') {
        template();
        lastWord = '';
        continue;
      }
      lastChar = c;
      lastWord = '';
      continue;
    }
    if (/[A-Za-z_$0-9]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z_$0-9]/.test(source[j])) j++;
      lastWord = source.slice(i, j);
      lastChar = source[j - 1];
      i = j;
      continue;
    }
    // A postfix `!` (TypeScript's non-null assertion) ends an operand, as `)` does.
    const nonNull =
      c === '!' && next !== '=' && (lastChar === ')' || lastChar === ']' || /[A-Za-z_$0-9]/.test(lastChar));
    lastChar = nonNull ? ')' : c;
    lastWord = '';
    i++;
  }
  return code;
}

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (EXTENSIONS.some((e) => entry.name.endsWith(e)) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Code lines and file counts per folder (`runtime/`, `runtime/tensor/`, ...), sorted by folder. */
export function measure(root = ROOT) {
  const folders = new Map();
  for (const tree of TREES) {
    if (!existsSync(join(root, tree))) continue;
    for (const file of walk(join(root, tree), [])) {
      const folder = relative(root, dirname(file)).split(sep).join('/') + '/';
      const f = folders.get(folder) ?? { folder, files: 0, lines: 0 };
      f.files++;
      f.lines += countCodeLines(readFileSync(file, 'utf8'));
      folders.set(folder, f);
    }
  }
  return [...folders.values()].sort((a, b) => a.folder.localeCompare(b.folder));
}

/** The committed budgets (`{ "runtime/": 1234, ... }`), or null when the file does not exist. */
export function readBudget(file = BUDGET_FILE) {
  if (!existsSync(file)) return null;
  const json = JSON.parse(readFileSync(file, 'utf8'));
  return json.budgets ?? json;
}

/**
 * The problems with `measured` against `budget`, one sentence each: folders over budget
 * or without one. An empty list means the gate passes.
 */
export function check(measured, budget) {
  const problems = [];
  const file = 'scripts/line-budget.json';
  if (budget === null)
    return [
      `line budget: ${file} is missing; expected a budget per folder, got none (run node scripts/line-budget.mjs --update)`,
    ];
  for (const { folder, lines } of measured) {
    const max = budget[folder];
    if (max === undefined) {
      problems.push(
        `line budget: ${folder} has no budget; expected an entry in ${file}, got none (run node scripts/line-budget.mjs --update and commit the new entry)`,
      );
    } else if (lines > max) {
      problems.push(
        `line budget: ${folder} is ${lines - max} code lines over budget; expected at most ${max}, got ${lines} (shorten the code, or raise its budget in ${file} in the same commit and say why)`,
      );
    }
  }
  return problems;
}

function table(measured, budget) {
  const rows = [['folder', 'files', 'code lines', 'budget', 'slack']];
  let files = 0,
    lines = 0;
  for (const m of measured) {
    const max = budget?.[m.folder];
    rows.push([
      m.folder,
      String(m.files),
      String(m.lines),
      max === undefined ? '-' : String(max),
      max === undefined ? '-' : String(max - m.lines),
    ]);
    files += m.files;
    lines += m.lines;
  }
  rows.push(['total', String(files), String(lines), '', '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '))
    .join('\n');
}

function update(measured, old) {
  const budgets = {};
  for (const { folder, lines } of measured) budgets[folder] = withMargin(lines);
  for (const [folder, max] of Object.entries(budgets)) {
    const was = old?.[folder];
    if (was !== undefined && max > was)
      console.log(`line-budget: ${folder} raised from ${was} to ${max}; say why in the commit message`);
  }
  const body = {
    comment:
      'Code lines (no comments, no blank lines) per folder; node scripts/line-budget.mjs --update rewrites it. Budgets only go down: see CONTRIBUTING.md.',
    budgets,
  };
  writeFileSync(BUDGET_FILE, JSON.stringify(body, null, 2) + '\n');
  console.log(`line-budget: wrote ${relative(ROOT, BUDGET_FILE)} (${Object.keys(budgets).length} folders)`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const measured = measure();
  const budget = readBudget();
  if (process.argv.includes('--update')) {
    update(measured, budget);
  } else {
    console.log(table(measured, budget));
    const problems = check(measured, budget);
    for (const p of problems) console.error(p);
    process.exitCode = problems.length > 0 ? 1 : 0;
  }
}
