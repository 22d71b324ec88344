/**
 * @module nn/repr — Python's `repr` of the values that appear in module reprs
 * (floats, booleans, tuples, strings), so `toString()` prints what PyTorch prints.
 */

/**
 * A number as Python's `repr(float)` writes it: shortest round-trip digits,
 * `.0` on integral values, and exponent form below 1e-4 or from 1e16 on.
 * @example pyFloat(1e-5) // '1e-05'
 * @example pyFloat(1) // '1.0'
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits, as repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac === '' ? '0' : frac}`;
}

/**
 * `True` or `False`.
 * @example pyBool(true) // 'True'
 */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/**
 * A tuple of integers as Python writes it.
 * @example pyTuple([10]) // '(10,)'
 * @example pyTuple([3, 4]) // '(3, 4)'
 */
export function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

/**
 * A string as Python's `repr(str)` writes a simple one.
 * @example pyStr('none') // "'none'"
 */
export function pyStr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Indents every line but the first by `spaces`, as torch.nn.modules.module._addindent.
 * @example addIndent('A(\n  x\n)', 2) // 'A(\n    x\n  )'
 */
export function addIndent(s: string, spaces: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  const pad = ' '.repeat(spaces);
  return [lines[0]!, ...lines.slice(1).map((l) => pad + l)].join('\n');
}

/**
 * A TypeScript field name as the Python attribute it stands for (camelCase to snake_case),
 * which is its key in state dicts and reprs.
 * @example stateKey('runningMean') // 'running_mean'
 * @example stateKey('encoder') // 'encoder'
 */
export function stateKey(field: string): string {
  if (!/[A-Z]/.test(field)) return field;
  return field
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
