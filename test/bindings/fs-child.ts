/**
 * @module bindings/fs-child — the child process of fs-faults.test.ts (bundled there with esbuild):
 * runs file steps through bindings/node-fs.ts and prints one JSON line per step, so faults that
 * need a process of their own (a file size limit, another user, a mount namespace, SIGKILL)
 * are real faults, not injected ones.
 *
 * @example FS_CHILD_STEPS='[{"op":"write","path":"/tmp/x/a.bin","bytes":10,"fill":1}]' node fs-child.mjs
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeFiles } from '../../bindings/node-fs.ts';
import { FileSystemError } from '../../runtime/errors.ts';

/** One step; `kill-mid-write` starts a write and SIGKILLs this process once its temporary file has data. */
export type ChildStep =
  | { readonly op: 'write'; readonly path: string; readonly bytes: number; readonly fill: number }
  | { readonly op: 'read'; readonly path: string }
  | { readonly op: 'list'; readonly path: string }
  | { readonly op: 'mkdirp'; readonly path: string }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'sweep'; readonly path: string }
  | { readonly op: 'kill-mid-write'; readonly path: string; readonly bytes: number };

/** What a step printed. */
export type ChildResult =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly error: {
        readonly typed: boolean;
        readonly code?: string;
        readonly path?: string;
        readonly operation?: string;
        readonly message: string;
      };
    };

function report(result: ChildResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function run(step: ChildStep): Promise<unknown> {
  switch (step.op) {
    case 'write':
      return nodeFiles.writeFile(step.path, new Uint8Array(step.bytes).fill(step.fill));
    case 'read': {
      const bytes = await nodeFiles.readFile(step.path);
      return { length: bytes.length, first: bytes[0] ?? null };
    }
    case 'list':
      return nodeFiles.listDir(step.path);
    case 'mkdirp':
      return nodeFiles.mkdirp(step.path);
    case 'remove':
      return nodeFiles.removeFile(step.path);
    case 'sweep':
      return nodeFiles.sweepTempFiles(step.path);
    case 'kill-mid-write': {
      const dir = dirname(step.path);
      void nodeFiles.writeFile(step.path, new Uint8Array(step.bytes).fill(7));
      // Node writes a large buffer in chunks, so timers run between them: die once some are on disk.
      return new Promise(() => {
        setInterval(() => {
          for (const name of readdirSync(dir)) {
            if (name.endsWith('.lts-tmp') && statSync(join(dir, name)).size > 0) process.kill(process.pid, 'SIGKILL');
          }
        }, 1);
      });
    }
  }
}

const steps = JSON.parse(process.env['FS_CHILD_STEPS'] ?? '[]') as ChildStep[];
for (const step of steps) {
  try {
    report({ ok: true, value: (await run(step)) ?? null });
  } catch (error) {
    const typed = error instanceof FileSystemError;
    report({
      ok: false,
      error: typed
        ? { typed, code: error.code, path: error.path, operation: error.operation, message: error.message }
        : { typed, message: String(error) },
    });
  }
}
