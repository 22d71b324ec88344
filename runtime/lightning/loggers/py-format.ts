/**
 * @module lightning/loggers/py-format — numbers written as Python writes them,
 * so `metrics.csv` and `hparams.yaml` read the same as Lightning's.
 */

/**
 * Python's `repr(float)`: the shortest round-trip digits, fixed notation for
 * exponents in [-4, 16), otherwise `1.5e-05` / `1e+16`; integral values keep `.0`.
 * @example pyFloatRepr(1) // '1.0'
 * @example pyFloatRepr(0.00001) // '1e-05'
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits.
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp >= 0) {
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${whole}.${frac === '' ? '0' : frac}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}
