// What a failed file-system call tells the user: one line naming the path, what was being done and
// why it failed, instead of Node's stack trace. Every command's errors pass through
// fileSystemErrorLine (in gan.ts), so the same failure reads the same everywhere.

/** A file-system failure already put into words (with, for a run, where its last checkpoint is). */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file where a directory is needed',
  EISDIR: 'it is a directory where a file is needed',
  EEXIST: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for the file system',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  EIO: 'an input/output error',
  EBUSY: 'the file is busy',
};

const ACTIONS: Record<string, string> = {
  open: 'cannot open',
  read: 'cannot read',
  write: 'cannot write',
  fsync: 'cannot write',
  close: 'cannot write',
  mkdir: 'cannot create the directory',
  rename: 'cannot replace',
  scandir: 'cannot list the directory',
  stat: 'cannot read',
  unlink: 'cannot remove',
  copyfile: 'cannot copy',
};

export function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/**
 * The one line for a file-system error (`path: cannot write (no space left on the device).`), or
 * undefined when `err` is not one. `path` stands in where the error carries none (read and write
 * calls on an open file descriptor don't).
 */
export function fileSystemErrorLine(err: unknown, path?: string): string | undefined {
  if (!isErrnoError(err)) return undefined;
  const code = err.code!;
  // A rename fails on its destination's directory as often as on its source: name the file kept.
  const where =
    (err.syscall === 'rename' ? (err as { dest?: string }).dest : undefined) ?? err.path ?? path ?? 'a file';
  const action = ACTIONS[err.syscall!] ?? `${err.syscall} failed on`;
  const reason = REASONS[code] ?? code;
  return `${where}: ${action} (${reason}).`;
}

/** Runs `action` on `path`, giving a failure the path that read and write errors lack. */
export function atPath<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (err) {
    if (isErrnoError(err)) err.path ??= path;
    throw err;
  }
}
