/**
 * @module lightning/callbacks/model-summary — the table Lightning prints at fit start.
 */
import type { Module } from '../../nn/module.ts';
import { getPlatform } from '../../platform.ts';
import type { LightningModule } from '../module.ts';
import type { Trainer } from '../trainer.ts';
import { Callback } from './callback.ts';

/**
 * A parameter count as Lightning writes it (`get_human_readable_count`).
 * @example humanCount(101907) // '101 K'; humanCount(50240) // '50.2 K'
 */
export function humanCount(n: number): string {
  const labels = [' ', 'K', 'M', 'B', 'T'];
  const digits = n > 0 ? Math.floor(Math.log10(n)) + 1 : 1;
  const groups = Math.min(Math.ceil(digits / 3), labels.length);
  const x = n * 10 ** (-3 * (groups - 1));
  const index = groups - 1;
  if (index < 1 || x >= 100) return `${groupThousands(String(Math.trunc(x)))} ${labels[index]}`;
  return `${groupThousands(oneDecimalHalfEven(x))} ${labels[index]}`;
}

/**
 * Python's `f'{x:.1f}'` for 1 <= x < 1000: the exact binary value rounded half to even.
 * (`toFixed` rounds exact ties up: 50.25 → '50.3' where Python writes '50.2'.) A double
 * below 1000 has at most 52 fractional binary digits, so `toFixed(60)` is its exact value.
 */
function oneDecimalHalfEven(x: number): string {
  const exact = x.toFixed(60);
  const point = exact.indexOf('.');
  const kept = exact.slice(0, point + 2);
  const rest = exact.slice(point + 2);
  const tenths = Number(kept.replace('.', ''));
  const up = rest[0]! > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || tenths % 2 === 1));
  const n = up ? tenths + 1 : tenths;
  return `${Math.trunc(n / 10)}.${n % 10}`;
}

/**
 * Python's `,` format grouping. Not toLocaleString: its first call loads the ICU data,
 * about 15 ms of a cold start on the bench VM.
 */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Lightning's summary table: one row per child (to `maxDepth`), then parameter totals and the size in MB.
 * @example console.log(summarize(model))
 * //   | Name    | Type       | Params
 * // ---------------------------------------
 * // 0 | encoder | Sequential | 50.4 K
 */
export function summarize(model: Module, maxDepth = 1): string {
  const rows: [string, string, number][] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === '') continue;
    if (name.split('.').length > maxDepth) continue;
    rows.push([name, m.constructor.name, m.numParameters()]);
  }
  const cols: [string, string[]][] = [
    [' ', rows.map((_, i) => String(i))],
    ['Name', rows.map((r) => r[0])],
    ['Type', rows.map((r) => r[1])],
    ['Params', rows.map((r) => humanCount(r[2]))],
  ];
  const widths = cols.map(([h, v]) => Math.max(h.length, ...v.map((s) => s.length)));
  const total = widths.reduce((a, b) => a + b, 0) + 3 * cols.length;
  const pad = (s: string, w: number): string => s.padEnd(w);
  let out = cols.map(([h], i) => pad(h, widths[i]!)).join(' | ') + '\n' + '-'.repeat(total);
  for (let r = 0; r < rows.length; r++) out += '\n' + cols.map(([, v], i) => pad(v[r]!, widths[i]!)).join(' | ');
  out += '\n' + '-'.repeat(total);
  const all = model.numParameters();
  const trainable = model.numParameters({ trainableOnly: true });
  const bytes = model.parameters().reduce((a, p) => a + p.numel() * (p.dtype === 'float64' ? 8 : 4), 0);
  out += `\n${pad(humanCount(trainable), 10)}Trainable params`;
  out += `\n${pad(humanCount(all - trainable), 10)}Non-trainable params`;
  out += `\n${pad(humanCount(all), 10)}Total params`;
  out += `\n${pad((bytes / 1e6).toFixed(3), 10)}Total estimated model params size (MB)`;
  return out;
}

/**
 * Prints {@link summarize}'s table at fit start.
 * @example new Trainer({ callbacks: [new ModelSummary({ maxDepth: 2 })] })
 */
export class ModelSummary extends Callback {
  readonly maxDepth: number;
  constructor(options: { readonly maxDepth?: number } = {}) {
    super();
    this.maxDepth = options.maxDepth ?? 1;
  }

  override onFitStart(trainer: Trainer, module: LightningModule): void {
    if (this.maxDepth === 0 || !trainer.isGlobalZero) return;
    getPlatform().stdout.write(`${summarize(module, this.maxDepth)}\n`);
  }
}
