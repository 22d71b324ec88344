/** @module line-budget — types for scripts/line-budget.mjs (imported by test/layout/line-budget.test.ts). */

/** One folder's measurement: its repo-relative path with a trailing slash, its files and code lines. */
export interface FolderLines {
  readonly folder: string;
  readonly files: number;
  readonly lines: number;
}

export const ROOT: string;
export const BUDGET_FILE: string;
export const TREES: readonly string[];
/** The budget `--update` writes for a folder of `lines` code lines. */
export function withMargin(lines: number): number;
/** How many lines of `source` hold code: not blank, not only comments. */
export function countCodeLines(source: string): number;
/** The 0-based numbers of the lines of `source` that hold code. */
export function codeLines(source: string): Set<number>;
/** Code lines and file counts per folder, sorted by folder. */
export function measure(root?: string): FolderLines[];
/** The committed budgets, or null when the budget file does not exist. */
export function readBudget(file?: string): Record<string, number> | null;
/** The problems with `measured` against `budget`, one sentence each; empty when the gate passes. */
export function check(measured: readonly FolderLines[], budget: Readonly<Record<string, number>> | null): string[];
