// Any labelled IDX set (EMNIST, KMNIST, Fashion-MNIST's own files, MNIST itself) as an ImageDataset:
// the four files found by name among a directory's files, any H x W, the class count from the labels.
// Browser-safe: the halves in dataset-files-*.ts list and read the files.
import { DataFileError, parseIdx } from './idx';
import { checkDataset, idxValidationCount, sliceSplit, type ImageDataset } from './image-dataset';
import { baseName, readMaybeGzip, type Gunzip, type SourceFile } from './source-file';

export interface LabelledImages {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** An IDX image file and its label file, checked against each other; any label value is allowed. */
export function parseLabelledImages(
  images: { path: string; bytes: Uint8Array },
  labels: { path: string; bytes: Uint8Array },
): LabelledImages {
  const imageTensor = parseIdx(images.bytes, images.path, 3);
  const labelTensor = parseIdx(labels.bytes, labels.path, 1);
  const [count, rows, cols] = imageTensor.shape;
  if (labelTensor.shape[0] !== count) {
    throw new DataFileError(
      `${labels.path}: ${labelTensor.shape[0]} labels, but ${images.path} holds ${count} images.`,
    );
  }
  return { pixels: imageTensor.data, labels: labelTensor.data, count, rows, cols };
}

/**
 * The four roles, matched on the file's base name, case-insensitive, with or without `.gz`: the
 * names of MNIST and Fashion-MNIST (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`), EMNIST's
 * (`emnist-letters-train-images-idx3-ubyte`, `...-test-...`) and the dotted variants
 * (`train-images.idx3-ubyte`).
 */
export const IDX_ROLES = {
  trainImages: { pattern: /train-images.*idx3-ubyte(\.gz)?$/i, like: '*train-images*idx3-ubyte' },
  trainLabels: { pattern: /train-labels.*idx1-ubyte(\.gz)?$/i, like: '*train-labels*idx1-ubyte' },
  testImages: {
    pattern: /(t10k|test)-images.*idx3-ubyte(\.gz)?$/i,
    like: '*t10k-images*idx3-ubyte or *test-images*idx3-ubyte',
  },
  testLabels: {
    pattern: /(t10k|test)-labels.*idx1-ubyte(\.gz)?$/i,
    like: '*t10k-labels*idx1-ubyte or *test-labels*idx1-ubyte',
  },
} as const;

export type IdxRole = keyof typeof IDX_ROLES;

/** The file for each role among `files`; one line naming the directory when one is missing or ambiguous. */
export function findIdxFiles(files: SourceFile[], source: string): Record<IdxRole, SourceFile> {
  const found = {} as Record<IdxRole, SourceFile>;
  for (const [role, { pattern, like }] of Object.entries(IDX_ROLES) as [IdxRole, (typeof IDX_ROLES)[IdxRole]][]) {
    let matches = files.filter((f) => pattern.test(baseName(f.path)));
    // A directory often keeps both the download and its gunzipped copy: read the plain one.
    const plain = matches.filter((f) => !/\.gz$/i.test(f.path));
    if (plain.length > 0) matches = plain;
    if (matches.length === 0) {
      throw new DataFileError(
        `${source}: no file named like ${like} (or .gz); an IDX directory holds the training and test images and labels.`,
      );
    }
    if (matches.length > 1) {
      throw new DataFileError(
        `${source}: ${matches.length} files match ${like} (${matches.map((f) => baseName(f.path)).join(', ')}); keep one IDX set per directory.`,
      );
    }
    found[role] = matches[0];
  }
  return found;
}

export interface IdxDatasetOptions {
  kind?: string;
  classNames?: string[];
}

/**
 * The dataset from the four IDX files among `files`. Split: the last 10,000 training images are the
 * validation set (the last sixth when there are fewer than 60,000), the test files the test set.
 * Classes: the largest label + 1 (EMNIST letters count 1..26, so 27 with class 0 empty).
 */
export async function idxDatasetFromFiles(
  files: SourceFile[],
  source: string,
  gunzip: Gunzip,
  options: IdxDatasetOptions = {},
): Promise<ImageDataset> {
  const roles = findIdxFiles(files, source);
  const bytes = Object.fromEntries(
    await Promise.all(
      Object.entries(roles).map(
        async ([role, file]) => [role, { path: file.name, bytes: await readMaybeGzip(file, gunzip) }] as const,
      ),
    ),
  ) as Record<IdxRole, { path: string; bytes: Uint8Array }>;
  const train = parseLabelledImages(bytes.trainImages, bytes.trainLabels);
  const test = parseLabelledImages(bytes.testImages, bytes.testLabels);
  if (test.rows !== train.rows || test.cols !== train.cols) {
    throw new DataFileError(
      `${roles.testImages.name}: images are ${test.rows} x ${test.cols}, the training images ${train.rows} x ${train.cols}.`,
    );
  }
  const validCount = idxValidationCount(train.count, roles.trainImages.name);
  const trainCount = train.count - validCount;
  const bytesPerImage = train.rows * train.cols;
  let maxLabel = 0;
  for (const set of [train, test]) for (const label of set.labels) if (label > maxLabel) maxLabel = label;
  const classes = maxLabel + 1;
  if (options.classNames && options.classNames.length < classes) {
    throw new DataFileError(
      `${roles.trainLabels.name}: label ${maxLabel} found, but ${options.kind ?? 'this dataset'} has ${options.classNames.length} classes.`,
    );
  }
  return checkDataset({
    kind: options.kind ?? 'idx',
    source,
    channels: 1,
    height: train.rows,
    width: train.cols,
    train: sliceSplit(train.pixels, train.labels, bytesPerImage, 0, trainCount),
    valid: sliceSplit(train.pixels, train.labels, bytesPerImage, trainCount, validCount),
    test: sliceSplit(test.pixels, test.labels, bytesPerImage, 0, test.count),
    classes: options.classNames ? options.classNames.length : classes,
    classNames: options.classNames,
  });
}

/** IDX bytes for a tensor of unsigned bytes: what the Fashion-MNIST cache and the tests write. */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (0x08 << 8) | shape.length);
  shape.forEach((n, d) => view.setUint32(4 + 4 * d, n));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
