/**
 * @module purity.test — `runtime/` and `assembly/` never reach a host directly.
 *
 * DESIGN.md: runtime/ uses Web-standard APIs only and sees its host through
 * the Platform interface. This scans every file there, with comments removed,
 * for host globals and host-module imports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCANNED_DIRS = ['runtime', 'assembly'];

/** Host globals that runtime/ must not name (property names like `opts.process` are fine). */
const FORBIDDEN_GLOBALS = [
  'process',
  'Deno',
  'Bun',
  'window',
  'document',
  'navigator',
  'Worker',
  'SharedWorker',
  'worker_threads',
  'Buffer',
  '__dirname',
  '__filename',
  'setImmediate',
  'importScripts',
  'localStorage',
  'sessionStorage',
];

/** Host idioms that need more than a name: CommonJS and Node's `global`. */
const FORBIDDEN_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/(?<![.$\w])require\s*\(/g, 'global require'],
  [/(?<![.$\w])module\.exports\b/g, 'global module.exports'],
  [/(?<![.$\w])exports\.[\w$]+\s*=(?!=)/g, 'global exports'],
  [/(?<![.$\w])global\.[\w$]/g, 'global global'],
  [/\bimport\.meta\.(?:dirname|filename)\b/g, 'import.meta.dirname/filename'],
];

/** One forbidden mention: where, and which rule fired. */
interface PurityHit {
  readonly line: number;
  readonly rule: string;
  readonly text: string;
}

/**
 * Two views of a source: `code` without comments (strings kept), and `bare`,
 * also without the contents of string and template literals (their `${}`
 * expressions kept). Line breaks stay where they were, so line numbers hold.
 */
function strip(source: string): { code: string; bare: string; strings: { value: string; at: number }[] } {
  let code = '';
  let bare = '';
  const strings: { value: string; at: number }[] = [];
  const templateDepth: number[] = []; // brace depth at each open `${`
  let braces = 0;
  let i = 0;
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  const emit = (s: string, inBare: string = s): void => {
    code += s;
    bare += inBare;
  };
  const lastSignificant = (): string => {
    const m = /(\S)\s*$/.exec(bare);
    return m?.[1] ?? '';
  };
  const lastWord = (): string => /([A-Za-z_$][\w$]*)\s*$/.exec(bare)?.[1] ?? '';
  const readTemplate = (): void => {
    // At a template's text (just after '`' or '}'): read to '`' or '${'.
    let text = '';
    while (i < source.length) {
      const c = source[i]!;
      if (c === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === '`') {
        emit(text, blank(text));
        emit('`');
        i++;
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        emit(text, blank(text));
        emit('${');
        i += 2;
        templateDepth.push(braces);
        braces++;
        return;
      }
      text += c;
      i++;
    }
    emit(text, blank(text));
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const comment = source.slice(i, end < 0 ? source.length : end + 2);
      const newlines = comment.replace(/[^\n]/g, '');
      emit(newlines === '' ? ' ' : newlines);
      i += comment.length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      const literal = source.slice(i, j + 1);
      strings.push({ value: literal.slice(1, -1), at: code.length });
      emit(literal, c + blank(literal.slice(1, -1)) + c);
      i = j + 1;
      continue;
    }
    if (c === '`') {
      emit('`');
      i++;
      readTemplate();
      continue;
    }
    if (c === '{') {
      braces++;
      emit(c);
      i++;
      continue;
    }
    if (c === '}') {
      braces--;
      if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces) {
        templateDepth.pop();
        emit('}');
        i++;
        readTemplate();
        continue;
      }
      emit(c);
      i++;
      continue;
    }
    if (c === '/') {
      // A regex literal where an expression may start; otherwise division.
      const prev = lastSignificant();
      const word = lastWord();
      const regexStart =
        prev === '' ||
        '(,=:[!&|?{};+-*%<>~^'.includes(prev) ||
        (/[\w$]$/.test(prev) &&
          ['return', 'typeof', 'case', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await'].includes(word));
      if (regexStart) {
        let j = i + 1;
        let inClass = false;
        while (j < source.length && source[j] !== '\n') {
          const d = source[j];
          if (d === '\\') {
            j += 2;
            continue;
          }
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          j++;
        }
        const literal = source.slice(i, j + 1);
        emit(literal, '/' + blank(literal.slice(1, -1)) + '/');
        i = j + 1;
        continue;
      }
    }
    emit(c);
    i++;
  }
  return { code, bare, strings };
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/**
 * Every mention of a host global or host module in `source`, comments ignored.
 * @example checkPurity('const x = process.env.X;')[0]?.rule // 'global process'
 */
function checkPurity(source: string): PurityHit[] {
  const { code, bare, strings } = strip(source);
  const hits: PurityHit[] = [];
  const codeLines = code.split('\n');
  const add = (index: number, rule: string): void => {
    const line = lineAt(code, index);
    hits.push({ line, rule, text: (codeLines[line - 1] ?? '').trim() });
  };
  for (const name of FORBIDDEN_GLOBALS) {
    // Not a property access (`o.process`, but `globalThis.process` counts), not part of a longer name (`ArrayBuffer`).
    const re = new RegExp(`(?:(?<![.$\\w])|(?<=(?<![.$\\w])(?:globalThis|self)\\s*\\.\\s*))${name}(?![$\\w])`, 'g');
    for (const m of bare.matchAll(re)) {
      // `{ process: 1 }` or `process?: x` as an object key or member name is not the global.
      const after = bare.slice(m.index + name.length);
      const before = bare.slice(0, m.index);
      if (/^\s*\??:/.test(after) && /[{,;]\s*$/.test(before) && !/\?\s*$/.test(before)) continue;
      add(m.index, `global ${name}`);
    }
  }
  for (const [re, rule] of FORBIDDEN_PATTERNS) for (const m of bare.matchAll(re)) add(m.index, rule);
  for (const { value, at } of strings) {
    if (value.startsWith('node:')) add(at, `module ${value}`);
    else if (NODE_BUILTINS.has(value.split('/')[0] ?? '') && isModuleSpecifier(code, at)) add(at, `module ${value}`);
    else if (FORBIDDEN_GLOBALS.includes(value) && /\[\s*$/.test(code.slice(0, at)))
      add(at, `global ${value} (by index)`);
  }
  return hits.sort((a, b) => a.line - b.line);
}

/** True when the string at `at` is an import/export specifier. */
function isModuleSpecifier(code: string, at: number): boolean {
  return /(\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*$/.test(code.slice(Math.max(0, at - 40), at));
}

function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function isText(bytes: Buffer): boolean {
  return !bytes.subarray(0, 8000).includes(0);
}

describe('purity', () => {
  const files = SCANNED_DIRS.flatMap((d) => filesUnder(join(ROOT, d))).sort();

  it('purity: scans runtime/ (including runtime/platform.ts)', () => {
    const names = files.map((f) => relative(ROOT, f).split('\\').join('/'));
    expect(names).toContain('runtime/platform.ts');
    expect(names.length).toBeGreaterThan(3);
  });

  it('purity: runtime/ and assembly/ never mention host globals or node: modules', () => {
    const report: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      if (!isText(bytes)) continue;
      for (const hit of checkPurity(bytes.toString('utf8'))) {
        report.push(`${relative(ROOT, file)}:${hit.line}: ${hit.rule}: ${hit.text}`);
      }
    }
    expect(report, `host-specific code belongs in bindings/:\n${report.join('\n')}`).toEqual([]);
  });
});

describe('purity checker', () => {
  const rules = (source: string): string[] => checkPurity(source).map((h) => h.rule);

  it('purity checker: flags process.env', () => {
    expect(rules('export const debug = process.env.DEBUG;')).toEqual(['global process']);
    expect(rules('const p = globalThis.process;')).toEqual(['global process']);
    expect(rules("const d = globalThis['Deno'];")).toEqual(['global Deno (by index)']);
  });

  it('purity checker: flags host globals and host modules', () => {
    expect(rules('const w = new Worker(url);')).toEqual(['global Worker']);
    expect(rules('if (typeof window !== "undefined") {}')).toEqual(['global window']);
    expect(rules("import { readFile } from 'node:fs/promises';")).toEqual(['module node:fs/promises']);
    expect(rules("import { Worker as W } from 'worker_threads';")).toContain('module worker_threads');
    expect(rules("const fs = require('fs');")).toEqual(['global require', 'module fs']);
    expect(rules('const b = Buffer.from(x); const d = __dirname;')).toEqual(['global Buffer', 'global __dirname']);
    expect(rules('const n = navigator.gpu;\nconst x = document.body;')).toEqual([
      'global navigator',
      'global document',
    ]);
    expect(rules('const m = await import("node:os");')).toEqual(['module node:os']);
    expect(rules('const t = `${process.pid}`;')).toEqual(['global process']);
  });

  it('purity checker: ignores comments, strings, property names and longer names', () => {
    expect(rules('/** Worker data parallel: each process holds a replica. */\nconst a = 1;')).toEqual([]);
    expect(rules('// uses process.env in the binding\nconst a = 1;')).toEqual([]);
    expect(rules("throw new Error('single-process training; expected a window of 3');")).toEqual([]);
    expect(
      rules('const buf = new ArrayBuffer(8); const h: BufferHandle = x; const s = new SharedArrayBuffer(4);'),
    ).toEqual([]);
    expect(rules('const o = { process: 1, window: 2 }; o.process; o.document;')).toEqual([]);
    expect(rules('const url = "https://x/"; const re = /\\/\\/ process/; const y = 1;')).toEqual([]);
    expect(rules('const ratio = a / b; // process\nconst c = d / e;')).toEqual([]);
    expect(rules('const t = `a process ${x} window`;')).toEqual([]);
  });
});
