/**
 * @module lightning/loggers/yaml — a small YAML emitter for `hparams.yaml`.
 *
 * Follows PyYAML's `yaml.dump` defaults that Lightning's `save_hparams_to_yaml`
 * relies on: block style, keys sorted, sequences inside mappings not indented,
 * floats as Python's repr (`1.0e-05`, `.nan`, `.inf`), and `{}` for an empty
 * mapping. Strings are left plain only when that is unambiguous; others are
 * quoted, which any YAML reader loads to the same value.
 */
import { ValueError } from '../../errors.ts';
import { checkHyperparameters } from './hparams-check.ts';
import { pyFloatRepr } from './py-format.ts';

// PyYAML's (YAML 1.1) resolver: these plain words would load as null or booleans.
const RESERVED = /^(?:~|null|true|false|yes|no|on|off)$/i;
const NUMBER_LIKE = /^[-+]?(?:\.?\d|\.(?:inf|nan))/i;

function scalarString(s: string): string {
  if (
    s !== '' &&
    /^[A-Za-z_/][\w./ -]*$/.test(s) &&
    !s.endsWith(' ') &&
    !RESERVED.test(s) &&
    !NUMBER_LIKE.test(s) &&
    !s.includes(' -') &&
    !s.includes(' #')
  ) {
    return s;
  }
  // JSON strings are YAML double-quoted scalars; single quotes read better when nothing needs escaping.
  return /^[\x20-\x7e]*$/.test(s) ? `'${s.replace(/'/g, "''")}'` : JSON.stringify(s);
}

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (v === Infinity) return '.inf';
    if (v === -Infinity) return '-.inf';
    if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v);
    const r = pyFloatRepr(v);
    // PyYAML's represent_float: an exponent without a dot gets '.0'.
    return !r.includes('.') && r.includes('e') ? r.replace('e', '.0e') : r;
  }
  if (typeof v === 'string') return scalarString(v);
  return undefined;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function emit(value: unknown, indent: number, lines: string[], path: string): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    for (const item of Array.from(value as ArrayLike<unknown>)) {
      const s = scalar(item);
      if (s !== undefined || isEmpty(item)) {
        lines.push(`${pad}- ${s ?? emptyInline(item)}`);
      } else {
        const sub: string[] = [];
        emit(item, indent + 2, sub, path);
        // The first line of a nested block shares the dash's line.
        lines.push(`${pad}- ${sub[0]!.slice(indent + 2)}`, ...sub.slice(1));
      }
    }
    return;
  }
  if (isMapping(value)) {
    for (const key of Object.keys(value).sort()) {
      const item = value[key];
      const k = scalarString(key);
      const s = scalar(item);
      if (s !== undefined) lines.push(`${pad}${k}: ${s}`);
      else if (isEmpty(item)) lines.push(`${pad}${k}: ${emptyInline(item)}`);
      else {
        lines.push(`${pad}${k}:`);
        // PyYAML does not indent a sequence under a mapping key.
        emit(item, Array.isArray(item) || ArrayBuffer.isView(item) ? indent : indent + 2, lines, `${path}.${key}`);
      }
    }
    return;
  }
  throw new ValueError(
    `yaml: cannot represent the value at ${path === '' ? 'the top' : path.slice(1)}; expected plain data (null, boolean, number, string, array, object), got ${typeof value}`,
  );
}

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return (v as ArrayLike<unknown>).length === 0;
  return isMapping(v) && Object.keys(v).length === 0;
}

function emptyInline(v: unknown): string {
  return isMapping(v) ? '{}' : '[]';
}

/**
 * `value` as a YAML document, the way PyYAML's `yaml.dump` writes it.
 * @example toYaml({ lr: 0.001, layers: [64, 3], name: 'ae' }) // 'layers:\n- 64\n- 3\nlr: 0.001\nname: ae\n'
 */
export function toYaml(value: unknown): string {
  checkHyperparameters(value, 'yaml');
  const s = scalar(value);
  if (s !== undefined) return `${s}\n`;
  if (isEmpty(value)) return `${emptyInline(value)}\n`;
  const lines: string[] = [];
  emit(value, 0, lines, '');
  return `${lines.join('\n')}\n`;
}
