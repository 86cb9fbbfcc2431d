// Checkpoint files on disk. The format (encoding, decoding, the SHA-256 check) is in
// ./checkpoint-format.ts, which the pages share; here they are written atomically (a temporary file,
// flushed, then renamed over the old one), so a process killed mid-write leaves the previous file intact.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { CheckpointError } from './safetensors';

export * from './checkpoint-format';

/**
 * Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part. When
 * the write fails (a full disk, a directory that cannot be written) the old file is untouched, the
 * temporary is removed, and the error names `path`.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    // write and fsync errors carry no path; open's names the temporary, which the user never asked for.
    const errno = err as NodeJS.ErrnoException;
    if (errno.syscall !== 'rename') errno.path = path;
    throw err;
  }
  // The rename itself is durable once the directory is flushed.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function readCheckpointFile(path: string): Uint8Array {
  if (!existsSync(path)) throw new CheckpointError(`${path}: file not found.`);
  if (statSync(path).isDirectory())
    throw new CheckpointError(`${path}: is a directory; give the checkpoint file in it (checkpoint.safetensors).`);
  return readFileSync(path);
}
