/**
 * @module lightning/callbacks/checkpoint-paths — which files a resumed ModelCheckpoint may
 * delete. Paths read from a checkpoint (`best_model_path`, `best_k_models`, ...) are data from
 * a file, so they are compared as strings after lexical normalisation, never trusted.
 *
 * `runtime/` has Web-standard APIs only, so there is no `realpath`: a symbolic link cannot be
 * resolved here. The rules never need to: a path from a file may be deleted only when it names a
 * `.ckpt` file directly inside `dirpath` (no subfolder, whose name could be a link to a folder
 * elsewhere), the deletion uses `dirpath/<name>` rather than the file's string (so a `..` after a
 * link is never resolved by the host), and `Platform.removeFile` unlinks a link itself, never its
 * target. So a link inside `dirpath` may lose the link; what it points to is never touched.
 */

/**
 * `path` with repeated and trailing slashes, `.` and `..` resolved lexically; a relative path
 * keeps the `..` that climb above its start, an absolute one stops at the root (as POSIX).
 * @example normalizePath('ck/./a/../b.ckpt') // 'ck/b.ckpt'
 */
export function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}

/**
 * Whether two paths may name the same file: equal after normalisation, or (one relative, one
 * absolute, the working folder being unknown here) the relative one is a tail of the absolute one.
 * @example maybeSameFile('/home/u/ck/a.ckpt', 'ck/a.ckpt') // true
 */
export function maybeSameFile(a: string, b: string): boolean {
  const na = normalizePath(a);
  const nb = normalizePath(b);
  if (na === nb) return true;
  if (na.startsWith('/') === nb.startsWith('/')) return false;
  const [abs, rel] = na.startsWith('/') ? [na, nb] : [nb, na];
  return !rel.startsWith('..') && abs.endsWith(`/${rel}`);
}

/**
 * The file name when `path` (read from a checkpoint) names a `.ckpt` file directly inside
 * `dirpath` after normalisation, else null. The caller deletes `dirpath/<name>`, built from its
 * own folder, so the `..` or links of the file's string never reach the host. Backslashes and
 * NUL are refused (a Windows host reads a backslash as a separator); a relative path never
 * matches an absolute `dirpath`, nor the reverse (the working folder is unknown here).
 * @example checkpointNameInDir('ck/./a.ckpt', 'ck') // 'a.ckpt'
 * @example checkpointNameInDir('ck/../../etc/passwd', 'ck') // null
 */
export function checkpointNameInDir(path: string, dirpath: string): string | null {
  if (/[\\\0]/.test(path) || /[\\\0]/.test(dirpath)) return null;
  if (path.startsWith('/') !== dirpath.startsWith('/')) return null;
  const file = normalizePath(path);
  const dir = normalizePath(dirpath);
  const prefix = dir === '/' ? '/' : dir === '.' ? '' : `${dir}/`;
  if (!file.startsWith(prefix)) return null;
  const name = file.slice(prefix.length);
  const plain = name !== '' && !name.includes('/') && name !== '..' && name !== '.ckpt';
  return plain && name.endsWith('.ckpt') ? name : null;
}
