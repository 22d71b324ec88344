/**
 * @module bindings/fs-errors — host file-system errors (Node's `code`, Deno's `code` or class
 * name, OPFS's DOMException name) mapped to one {@link FileSystemError} with a readable message.
 */
import type { FileSystemErrorCode, FileSystemOperation } from '../runtime/errors.ts';
import { FileSystemError } from '../runtime/errors.ts';

/** What the mapping needs to know beyond the error: sizes for ENOSPC/EFBIG, and OPFS's ambiguity. */
export interface FaultContext {
  /** Bytes the write needed. */
  readonly bytes?: number;
  /** What an OPFS TypeMismatchError means here: ENOTDIR (a file where a directory was expected), EISDIR (the reverse), EEXIST (mkdirp over a file). */
  readonly mismatch?: FileSystemErrorCode;
}

/** Host codes and names → our code. Node and Deno share POSIX codes; the names are Deno's classes and OPFS's DOMExceptions. */
const CODES: Readonly<Record<string, FileSystemErrorCode>> = {
  ENOTDIR: 'ENOTDIR',
  ENOSPC: 'ENOSPC',
  EFBIG: 'EFBIG',
  EACCES: 'EACCES',
  EPERM: 'EPERM',
  EROFS: 'EROFS',
  ENOENT: 'ENOENT',
  EISDIR: 'EISDIR',
  ERR_FS_EISDIR: 'EISDIR',
  ENOTEMPTY: 'EISDIR',
  EEXIST: 'EEXIST',
  EMFILE: 'EMFILE',
  ENFILE: 'EMFILE',
  EIO: 'EIO',
  EDQUOT: 'QUOTA',
  NotFound: 'ENOENT',
  NotADirectory: 'ENOTDIR',
  IsADirectory: 'EISDIR',
  AlreadyExists: 'EEXIST',
  PermissionDenied: 'EACCES',
  NotCapable: 'EACCES',
  NotFoundError: 'ENOENT',
  QuotaExceededError: 'QUOTA',
  NoModificationAllowedError: 'EPERM',
  NotAllowedError: 'EACCES',
  SecurityError: 'EACCES',
  InvalidModificationError: 'EISDIR',
};

const VERBS: Readonly<Record<FileSystemOperation, string>> = {
  readFile: 'reading',
  writeFile: 'writing',
  listDir: 'listing',
  removeFile: 'removing',
  mkdirp: 'creating',
  makeDirExclusive: 'creating',
  sweepTempFiles: 'sweeping temporary files in',
};

/**
 * The host's own name for an error: Node's and Deno's `code`, else the class or DOMException name.
 * @example hostErrorCode(Object.assign(new Error('x'), { code: 'ENOSPC' })) // 'ENOSPC'
 */
export function hostErrorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return String(error);
}

/**
 * Sizes as people read them: `512 bytes`, `1.2 MB`.
 * @example formatBytes(1_200_000) // '1.2 MB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The parent folder of a '/'-separated path (Windows paths keep their own separators: the last of either). */
function parentOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? '.' : cut === 0 ? path.slice(0, 1) : path.slice(0, cut);
}

/** What is wrong, what was expected, and what to do, for one code and operation. */
function describe(
  code: FileSystemErrorCode,
  op: FileSystemOperation,
  path: string,
  host: string,
  context: FaultContext,
): { problem: string; expected: string; hint?: string } {
  const at = `${VERBS[op]} ${path}`;
  const room = context.bytes === undefined ? 'free space' : `room for ${formatBytes(context.bytes)}`;
  switch (code) {
    case 'ENOENT':
      if (op === 'writeFile')
        return {
          problem: `the directory does not exist ${at}`,
          expected: `an existing directory ${parentOf(path)}`,
          hint: 'call mkdirp first',
        };
      if (op === 'readFile') return { problem: `no such file ${at}`, expected: 'an existing file' };
      if (op === 'listDir' || op === 'sweepTempFiles')
        return { problem: `no such directory ${at}`, expected: 'an existing directory' };
      return { problem: `no such file or directory ${at}`, expected: 'an existing path' };
    case 'ENOTDIR':
      return {
        problem: `a part of the path is a file, not a directory, ${at}`,
        expected: `directories along ${op === 'listDir' || op === 'mkdirp' || op === 'makeDirExclusive' ? path : parentOf(path)}`,
      };
    case 'EISDIR':
      if (op === 'readFile') return { problem: `the path is a directory ${at}`, expected: 'a file' };
      return { problem: `a directory is in the way ${at}`, expected: 'a file or nothing at the path' };
    case 'EEXIST':
      return { problem: `a file is in the way ${at}`, expected: 'a directory or nothing at the path' };
    case 'ENOSPC':
      return {
        problem: `no space left on the device ${at}`,
        expected: room,
        hint: 'free some space, or write elsewhere',
      };
    case 'QUOTA':
      return {
        problem: `the storage quota is used up ${at}`,
        expected: `${room} within the quota`,
        hint: 'free some space, or write elsewhere',
      };
    case 'EFBIG':
      return {
        problem: `the file is larger than this process may write ${at}`,
        expected: `a file size limit above ${context.bytes === undefined ? 'the file' : formatBytes(context.bytes)}`,
        hint: 'raise ulimit -f',
      };
    case 'EACCES':
    case 'EPERM': {
      if (host === 'NoModificationAllowedError')
        return { problem: `the file is locked by another writer ${at}`, expected: 'no other open writer' };
      const access = op === 'readFile' || op === 'listDir' ? 'read' : 'write';
      const hint = host === 'NotCapable' ? `deno run --allow-${access}` : undefined;
      return {
        problem: `permission denied ${at}`,
        expected: `${access} permission on the path and its directory`,
        ...(hint === undefined ? {} : { hint }),
      };
    }
    case 'EROFS':
      return { problem: `the file system is read-only ${at}`, expected: 'a writable file system' };
    case 'EMFILE':
      return {
        problem: `too many open files ${at}`,
        expected: 'a free file descriptor',
        hint: 'close files, or raise ulimit -n',
      };
    case 'EIO':
      return { problem: `an input/output error ${at}`, expected: 'a working device', hint: 'check the disk' };
    case 'UNKNOWN':
      return { problem: `the file system failed ${at}`, expected: 'success' };
  }
}

/**
 * Maps a host error to a {@link FileSystemError} naming `operation` and `path`; a FileSystemError
 * passes through unchanged.
 *
 * @example
 * try { await writeFile(p, data); } catch (e) { throw fileSystemError('writeFile', p, e, { bytes: data.byteLength }); }
 */
export function fileSystemError(
  operation: FileSystemOperation,
  path: string,
  error: unknown,
  context: FaultContext = {},
): FileSystemError {
  if (error instanceof FileSystemError) return error;
  const host = hostErrorCode(error);
  const code = host === 'TypeMismatchError' ? (context.mismatch ?? 'ENOTDIR') : (CODES[host] ?? 'UNKNOWN');
  const got =
    code === 'UNKNOWN' && error instanceof Error && !error.message.includes(host) ? `${host}: ${error.message}` : host;
  return new FileSystemError({
    code,
    path,
    operation,
    got,
    cause: error,
    ...describe(code, operation, path, host, context),
  });
}
