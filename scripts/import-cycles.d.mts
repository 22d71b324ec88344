/** @module import-cycles — types for scripts/import-cycles.mjs (imported by test/layout/import-cycles.test.ts). */

/** Repo-relative file path -> the files it imports at run time (within the scanned folder). */
export type ImportGraph = Map<string, string[]>;

export const ROOT: string;
export const ALLOW_FILE: string;
/** The relative and bare specifiers `source` imports or re-exports at run time, in source order. */
export function runtimeImports(source: string, fileName?: string): string[];
/** The import graph of the `.ts` files under `folder` (default `runtime`). */
export function importGraph(folder?: string, root?: string): ImportGraph;
/** The graph restricted to paths starting with `prefix`. */
export function subgraph(graph: ImportGraph, prefix: string): ImportGraph;
/** The strongly connected components with more than one file (or a self-import), each sorted. */
export function cycles(graph: ImportGraph): string[][];
/** One shortest loop through `component`, from its first file back to it. */
export function loopThrough(graph: ImportGraph, component: readonly string[]): string[];
/** The allowed cycles, or [] when the allow-list file does not exist. */
export function readAllowList(file?: string): string[][];
/** The problems with `found` against `allowed`, one sentence each; empty when the gate passes. */
export function checkAllowList(
  found: readonly (readonly string[])[],
  allowed: readonly (readonly string[])[],
): string[];
