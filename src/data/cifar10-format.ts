// CIFAR-10's binary batches (the "CIFAR-10 binary version"): each record is 1 label byte, then the
// 1024 red, 1024 green and 1024 blue bytes of a 32 x 32 image, row-major. That is already our planar
// layout, so a record's 3072 bytes are copied as they are. Browser-safe.
import { DataFileError } from './idx';
import { CIFAR10_CLASSES, checkDataset, sliceSplit, type ImageDataset } from './image-dataset';
import { baseName, type SourceFile } from './source-file';

export const CIFAR10_SIDE = 32;
export const CIFAR10_IMAGE_BYTES = 3 * CIFAR10_SIDE * CIFAR10_SIDE;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;
export const CIFAR10_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';
/** The paper's cifar10 config: global contrast normalisation with scale 55. */
export const CIFAR10_CONTRAST_SCALE = 55;
/** The paper's split of the 50,000 training images: 0..39999 train, 40000..49999 validation. */
export const CIFAR10_VALID_COUNT = 10_000;

export interface CifarBatch {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export function parseCifarBatch(bytes: Uint8Array, file: string): CifarBatch {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const records = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new DataFileError(
      `${file}: ${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records (1 label + 3072 pixels); ` +
        (bytes.length === 0
          ? 'the file is empty.'
          : `${records} records and ${bytes.length % CIFAR10_RECORD_BYTES} bytes over: the file is truncated or not a CIFAR-10 binary batch.`),
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const pixels = new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    const label = bytes[at];
    if (label > 9)
      throw new DataFileError(
        `${file}: record ${i} has label ${label}, not a class 0..9; is this CIFAR-100 or another file?`,
      );
    labels[i] = label;
    pixels.set(bytes.subarray(at + 1, at + CIFAR10_RECORD_BYTES), i * CIFAR10_IMAGE_BYTES);
  }
  return { pixels, labels, count };
}

/** batches.meta.txt: the ten class names, one a line (blank lines ignored). */
export function parseCifarMeta(bytes: Uint8Array, file: string): string[] {
  const names = new TextDecoder()
    .decode(bytes)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== 10) throw new DataFileError(`${file}: ${names.length} class names, expected 10 (one a line).`);
  return names;
}

/**
 * How many of `count` training images are held out for validation: 10,000 of the full 50,000 (the
 * paper's split), the last fifth of a smaller set (the same share), at least one.
 */
export function cifarValidationCount(count: number, file: string): number {
  if (count < 2)
    throw new DataFileError(
      `${file}: ${count} training image${count === 1 ? '' : 's'} in all; a split into train and validation needs at least 2.`,
    );
  return count >= 5 * CIFAR10_VALID_COUNT ? CIFAR10_VALID_COUNT : Math.max(1, Math.floor(count / 5));
}

function pick(files: SourceFile[], name: string, source: string, required: boolean): SourceFile | undefined {
  const matches = files.filter((f) => baseName(f.path) === name);
  if (matches.length > 1)
    throw new DataFileError(
      `${source}: ${matches.length} files named ${name} (${matches.map((f) => f.path).join(', ')}); keep one CIFAR-10 set per directory.`,
    );
  if (matches.length === 0 && required) {
    throw new DataFileError(
      `${source}/${name}: missing; a CIFAR-10 directory holds ${CIFAR10_TRAIN_FILES.join(', ')} and ${CIFAR10_TEST_FILE} (the binary version).`,
    );
  }
  return matches[0];
}

function concat(batches: CifarBatch[]): CifarBatch {
  const count = batches.reduce((n, b) => n + b.count, 0);
  const pixels = new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const b of batches) {
    pixels.set(b.pixels, at * CIFAR10_IMAGE_BYTES);
    labels.set(b.labels, at);
    at += b.count;
  }
  return { pixels, labels, count };
}

/** CIFAR-10 from its batch files among `files` (matched by base name, in any subfolder). */
export async function cifar10FromFiles(files: SourceFile[], source: string): Promise<ImageDataset> {
  const source0 = source.replace(/\/$/, '');
  const trainFiles = CIFAR10_TRAIN_FILES.map((name) => pick(files, name, source0, true)!);
  const testFile = pick(files, CIFAR10_TEST_FILE, source0, true)!;
  const metaFile = pick(files, CIFAR10_META_FILE, source0, false);
  const train = concat(await Promise.all(trainFiles.map(async (f) => parseCifarBatch(await f.read(), f.name))));
  const test = parseCifarBatch(await testFile.read(), testFile.name);
  const classNames = metaFile ? parseCifarMeta(await metaFile.read(), metaFile.name) : CIFAR10_CLASSES;
  const validCount = cifarValidationCount(train.count, trainFiles[0].name);
  const trainCount = train.count - validCount;
  return checkDataset({
    kind: 'cifar10',
    source,
    channels: 3,
    height: CIFAR10_SIDE,
    width: CIFAR10_SIDE,
    train: sliceSplit(train.pixels, train.labels, CIFAR10_IMAGE_BYTES, 0, trainCount),
    valid: sliceSplit(train.pixels, train.labels, CIFAR10_IMAGE_BYTES, trainCount, validCount),
    test: sliceSplit(test.pixels, test.labels, CIFAR10_IMAGE_BYTES, 0, test.count),
    classes: 10,
    classNames,
    contrastScale: CIFAR10_CONTRAST_SCALE,
  });
}
