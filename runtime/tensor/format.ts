/**
 * @module tensor/format — PyTorch's printed form of a tensor.
 *
 * Follows torch/_tensor_str.py: floats that are all integers print as `1.`,
 * others with 4 decimals, and in scientific notation when the magnitudes
 * span more than 1e3 or leave [1e-4, 1e8); tensors over 1000 elements are
 * summarised with `...`, 3 items from each end of every dim.
 */
import type { DType, StorageArray } from '../dtype.ts';
import { numelOf } from '../shape.ts';

const SUMMARIZE_OVER = 1000;
const EDGE = 3;

type Formatter = (v: number) => string;

function floatFormatter(values: readonly number[]): Formatter {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return (v) => String(v).replace('Infinity', 'inf').replace('NaN', 'nan');
  const special = (v: number): string | null =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null;
  if (finite.every((v) => Number.isInteger(v))) {
    const max = Math.max(...finite.map(Math.abs));
    // torch's int_mode also goes scientific when the nonzero magnitudes span more than
    // 1e3 or exceed 1e8 (torch.tensor([1., 2000.]) prints 1.0000e+00, 2.0000e+03).
    const nz = finite.map(Math.abs).filter((v) => v > 0);
    const min = nz.length > 0 ? Math.min(...nz) : 0;
    if (nz.length === 0 || (max / min <= 1000 && max <= 1e8)) return (v) => special(v) ?? `${v.toFixed(0)}.`;
    return (v) => special(v) ?? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const nonzero = finite.map(Math.abs).filter((v) => v > 0);
  const max = nonzero.length > 0 ? Math.max(...nonzero) : 0;
  const min = nonzero.length > 0 ? Math.min(...nonzero) : 0;
  const sci = nonzero.length > 0 && (max / min > 1000 || max > 1e8 || min < 1e-4);
  if (sci) return (v) => special(v) ?? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  return (v) => special(v) ?? v.toFixed(4);
}

/**
 * The printed form of row-major `data` with `shape`, e.g. `tensor([1., 2.])`. `suffixes`
 * (like `requires_grad=True`) follow the dtype, as in torch/_tensor_str.py's _str_intern.
 * @example formatTensor(new Float32Array([1, 2]), [2], 'float32', []) // 'tensor([1., 2.])'
 */
export function formatTensor(
  data: StorageArray,
  shape: readonly number[],
  dtype: DType,
  suffixes: readonly string[],
): string {
  const numel = numelOf(shape);
  const summarize = numel > SUMMARIZE_OVER;
  const strides: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const shown: number[] = [];
  const visit = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      shown.push(data[offset]!);
      return;
    }
    for (const i of indices(shape[dim]!, summarize)) if (i >= 0) visit(dim + 1, offset + i * strides[dim]!);
  };
  if (numel > 0) visit(0, 0);
  const fmt: Formatter =
    dtype === 'bool'
      ? (v) => (v !== 0 ? 'True' : 'False')
      : dtype === 'int32'
        ? (v) => String(v)
        : floatFormatter(shown);
  const width = Math.max(0, ...shown.map((v) => fmt(v).length));
  const cell = (v: number): string => fmt(v).padStart(width);
  const all: string[] = [];
  // torch prints the shape of an empty tensor unless it is (0,).
  if (numel === 0 && shape.length !== 1) all.push(`size=(${shape.join(', ')})`);
  if (dtype === 'int32' || dtype === 'float64') all.push(`dtype=${dtype}`);
  all.push(...suffixes);
  let body: string;
  if (shape.length === 0) body = fmt(data[0]!);
  else if (numel === 0) body = '[]';
  else body = render(shape, strides, summarize, (_dim, offset) => cell(data[offset]!), width);
  return addSuffixes(`${PREFIX}${body}`, all);
}

const PREFIX = 'tensor(';
const LINE_WIDTH = 80;

/**
 * The nested brackets, as _tensor_str_with_formatter: rows of the last dim wrap at
 * 80 columns (`elements_per_line`), and a summarised last dim shows ` ...`.
 */
function render(
  shape: readonly number[],
  strides: readonly number[],
  summarize: boolean,
  cell: (dim: number, offset: number) => string,
  width: number,
): string {
  const go = (dim: number, offset: number, indent: number): string => {
    const n = shape[dim]!;
    if (dim === shape.length - 1) {
      const items = indices(n, summarize).map((i) => (i < 0 ? ' ...' : cell(dim, offset + i * strides[dim]!)));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(',\n' + ' '.repeat(indent + 1))}]`;
    }
    const parts = indices(n, summarize).map((i) =>
      i < 0 ? '...' : go(dim + 1, offset + i * strides[dim]!, indent + 1),
    );
    const sep = ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + 1);
    return `[${parts.join(sep)}]`;
  };
  return go(0, 0, PREFIX.length);
}

/** torch's _add_suffixes: `, suffix` on the last line, or on a new line past 80 columns. */
function addSuffixes(text: string, suffixes: readonly string[]): string {
  let out = text;
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > LINE_WIDTH) {
      out += `,\n${' '.repeat(PREFIX.length)}${suffix}`;
      lastLineLen = PREFIX.length + suffix.length;
    } else {
      out += `, ${suffix}`;
      lastLineLen += suffix.length + 2;
    }
  }
  return `${out})`;
}

/** The indices shown along a dim; -1 marks the `...`. */
function indices(n: number, summarize: boolean): number[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [0, 1, 2, -1, n - 3, n - 2, n - 1];
}
