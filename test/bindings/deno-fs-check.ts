/**
 * @module bindings/deno-fs-check — run by deno-fs.test.ts under `deno run -A`: file faults
 * through bindings/deno-fs.ts, printed as one JSON object for the test to check.
 *
 * @example deno run -A test/bindings/deno-fs-check.ts /tmp/empty-dir 12345
 */
import { denoFiles } from '../../bindings/deno-fs.ts';
import { tempFileName } from '../../bindings/temp-files.ts';
import { FileSystemError } from '../../runtime/errors.ts';

interface DenoCheckApi {
  readonly args: readonly string[];
  readonly pid: number;
  writeTextFile(path: string, text: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: DenoCheckApi }).Deno;

/** What a failing call threw, as plain data. */
async function fault(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
    return { threw: false };
  } catch (e) {
    if (!(e instanceof FileSystemError)) return { threw: true, typed: false, message: String(e) };
    return { threw: true, typed: true, code: e.code, path: e.path, operation: e.operation, message: e.message };
  }
}

const [dir = '.', deadPid = '0'] = Deno.args;
await Deno.writeTextFile(`${dir}/file`, 'x');
await Deno.mkdir(`${dir}/d`);
const enotdir = await fault(denoFiles.writeFile(`${dir}/file/x.ckpt`, new Uint8Array(10)));
await denoFiles.writeFile(`${dir}/a.ckpt`, new Uint8Array([1, 2, 3]));
await denoFiles.writeFile(`${dir}/a.ckpt`, new Uint8Array([4, 5]));
const eisdir = await fault(denoFiles.writeFile(`${dir}/d`, new Uint8Array(2)));
const enoent = await fault(denoFiles.readFile(`${dir}/missing`));
const removeDir = await fault(denoFiles.removeFile(`${dir}/d`));
await denoFiles.removeFile(`${dir}/missing`);
const afterWrites = await denoFiles.listDir(dir);
const stale = [tempFileName('b.ckpt', deadPid, 0), tempFileName('c.ckpt', Deno.pid, 9999)];
for (const name of [...stale, tempFileName('e.ckpt', 1, 0), '.hidden']) await Deno.writeTextFile(`${dir}/${name}`, 'x');
const swept = await denoFiles.sweepTempFiles(dir);
const afterSweep = await denoFiles.listDir(dir);
// Two claims of one name at once: exactly one wins; a file on the way is ENOTDIR.
const exclusive = await Promise.all([
  denoFiles.makeDirExclusive(`${dir}/d/v0`),
  denoFiles.makeDirExclusive(`${dir}/d/v0`),
]);
const exclusiveAgain = await denoFiles.makeDirExclusive(`${dir}/d/v0`);
const exclusiveNew = await denoFiles.makeDirExclusive(`${dir}/d/deep/v1`);
const exclusiveUnderFile = await fault(denoFiles.makeDirExclusive(`${dir}/file/v0`));
console.log(
  JSON.stringify({
    enotdir,
    eisdir,
    enoent,
    removeDir,
    read: Array.from(await denoFiles.readFile(`${dir}/a.ckpt`)),
    afterWrites,
    stale,
    swept,
    afterSweep,
    exclusive,
    exclusiveAgain,
    exclusiveNew,
    exclusiveUnderFile,
    exclusiveList: await denoFiles.listDir(`${dir}/d`),
  }),
);
