/**
 * @module nn/repr.test — Python's repr of floats, tuples and booleans, the layout of
 * module reprs, and the field-name to state-dict-key rule.
 */
import { describe, expect, it } from 'vitest';
import { addIndent, pyBool, pyFloat, pyStr, pyTuple, stateKey } from '../../runtime/nn/repr.ts';

describe('nn repr', () => {
  it('pyFloat: matches Python repr(float)', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0.5, '0.5'],
      [0.1, '0.1'],
      [0.01, '0.01'],
      [1e-4, '0.0001'],
      [1e-5, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [123.25, '123.25'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [2.5e100, '2.5e+100'],
      [-0.2, '-0.2'],
      [0, '0.0'],
      [-0, '-0.0'],
      [NaN, 'nan'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [0.3333333333333333, '0.3333333333333333'],
      [1e-100, '1e-100'],
      [12345678.9, '12345678.9'],
    ];
    for (const [x, s] of cases) expect(pyFloat(x), String(x)).toBe(s);
  });

  it('pyTuple, pyBool, pyStr: as Python prints them', () => {
    expect(pyTuple([10])).toBe('(10,)');
    expect(pyTuple([3, 4])).toBe('(3, 4)');
    expect(pyTuple([])).toBe('()');
    expect(pyBool(true)).toBe('True');
    expect(pyBool(false)).toBe('False');
    expect(pyStr('tanh')).toBe("'tanh'");
  });

  it('addIndent: indents all lines but the first, as torch._addindent', () => {
    expect(addIndent('ReLU()', 2)).toBe('ReLU()');
    expect(addIndent('A(\n  x\n)', 2)).toBe('A(\n    x\n  )');
  });

  it('stateKey: camelCase fields become the snake_case Python attribute names', () => {
    expect(stateKey('encoder')).toBe('encoder');
    expect(stateKey('runningMean')).toBe('running_mean');
    expect(stateKey('numBatchesTracked')).toBe('num_batches_tracked');
    expect(stateKey('fc2Out')).toBe('fc2_out');
    expect(stateKey('HTTPLayer')).toBe('http_layer');
    expect(stateKey('already_snake')).toBe('already_snake');
    expect(stateKey('0')).toBe('0');
  });
});
