// A file a loader may read, whatever holds it: a path on disk (the Node half), a URL or a File the
// user chose (the browser half). The parsers see only these, so one set of tests covers both halves.
import { DataFileError } from './idx';

export interface SourceFile {
  /** Path relative to the dataset's root, '/'-separated: how files are matched and classes found. */
  path: string;
  /** The full path or URL, named in errors. */
  name: string;
  read(): Promise<Uint8Array>;
}

/** Decompresses gzip bytes (node:zlib in Node, DecompressionStream in the browser). */
export type Gunzip = (bytes: Uint8Array, name: string) => Promise<Uint8Array>;

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file's bytes, gunzipped when they are gzip (whatever the name says). */
export async function readMaybeGzip(file: SourceFile, gunzip: Gunzip): Promise<Uint8Array> {
  const bytes = await file.read();
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzip(bytes, file.name);
  } catch (err) {
    throw new DataFileError(
      `${file.name}: gzip data that does not decompress (${(err as Error).message}); the file is truncated or damaged.`,
    );
  }
}

/** Where a loader reads: a directory (Node) or a directory URL (browser), or files the user chose. */
export type DatasetLocation = string | ArrayLike<File>;

/**
 * Files from <input type="file" webkitdirectory>, a drop, or a test: each file's path is its
 * webkitRelativePath (its name when it has none), less the chosen folder's own name, so that a
 * class folder is a top-level folder as it is on disk.
 */
export function sourceFilesFromFileList(list: ArrayLike<File>): { files: SourceFile[]; source: string } {
  const all = Array.from(list);
  const paths = all.map((f) => (f.webkitRelativePath || f.name).replace(/\\/g, '/').replace(/^\/+/, ''));
  const first = paths[0]?.split('/')[0];
  const commonRoot =
    paths.length > 0 && paths.every((p) => p.includes('/') && p.split('/')[0] === first) ? first : undefined;
  const files = all.map((file, i) => ({
    path: commonRoot ? paths[i].slice(commonRoot.length + 1) : paths[i],
    name: paths[i],
    read: async () => new Uint8Array(await file.arrayBuffer()),
  }));
  return { files, source: commonRoot ?? `${all.length} chosen file${all.length === 1 ? '' : 's'}` };
}
