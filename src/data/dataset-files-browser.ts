// Browser: the image datasets from files the user chose (<input type="file" webkitdirectory>, a
// drop) or fetched from the URL of a directory, relative to the page. A URL cannot be listed, so the
// URL form reads the standard file names (MNIST's for IDX sets, CIFAR-10's batch names). Images are
// decoded by the browser itself. The parsing is shared with the Node half
// (./dataset-files-node.ts), whose tests cover it; Twemoji are fetched as the npm package lays them
// out (emoji.json, img/twitter/64/*.png), from data/emoji/ where the page's server has the package.
import {
  checkEmojiSize,
  EMOJI_IMAGE_DIR,
  EMOJI_INSTALL,
  EMOJI_PACKAGE,
  emojiDataset,
  parseEmojiJson,
  type ReadEmoji,
} from './emoji-format';
import { cifar10FromFiles, CIFAR10_META_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from './cifar10-format';
import { DataFileError } from './idx';
import { idxDatasetFromFiles, type IdxDatasetOptions } from './idx-dataset';
import { FASHION_MNIST_CLASSES, type ImageDataset } from './image-dataset';
import { imageFolderFromFiles, type DecodeImage, type ImageFolderOptions } from './image-folder';
import { MNIST_FILES } from './mnist-format';
import { sourceFilesFromFileList, type DatasetLocation, type Gunzip, type SourceFile } from './source-file';

export type { DatasetLocation } from './source-file';

/** Where the page fetches Fashion-MNIST's four IDX files when it names no URL. */
export const FASHION_MNIST_URL = 'data/fashion-mnist/';

function baseUrl(): string {
  return globalThis.document?.baseURI ?? globalThis.location?.href ?? '';
}

function directoryUrl(location: string): string {
  return new URL(location.replace(/\/?$/, '/'), baseUrl()).href;
}

function urlFile(directory: string, name: string): SourceFile {
  const url = new URL(name, directory).href;
  return {
    path: name,
    name: url,
    read: async () => {
      let response: Response;
      try {
        response = await fetch(url);
      } catch (err) {
        throw new DataFileError(`${url}: cannot fetch (${(err as Error).message}).`);
      }
      if (!response.ok)
        throw new DataFileError(`${url}: the server answered ${response.status} ${response.statusText}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

const gunzip: Gunzip = async (bytes) => {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

/** Any IDX set from chosen files (matched by name, .gz or not), or from a URL holding MNIST's four file names. */
export async function readIdxDataset(
  location: DatasetLocation,
  options: IdxDatasetOptions = {},
): Promise<ImageDataset> {
  if (typeof location !== 'string') {
    const { files, source } = sourceFilesFromFileList(location);
    return idxDatasetFromFiles(files, source, gunzip, options);
  }
  const directory = directoryUrl(location);
  return idxDatasetFromFiles(
    Object.values(MNIST_FILES).map((name) => urlFile(directory, name)),
    directory,
    gunzip,
    options,
  );
}

/** CIFAR-10's binary batches from chosen files or a URL; batches.meta.txt is used when the server has it. */
export async function readCifar10(location: DatasetLocation): Promise<ImageDataset> {
  if (typeof location !== 'string') {
    const { files, source } = sourceFilesFromFileList(location);
    return cifar10FromFiles(files, source);
  }
  const directory = directoryUrl(location);
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].map((name) => urlFile(directory, name));
  const meta = urlFile(directory, CIFAR10_META_FILE);
  const metaBytes = await meta.read().catch(() => undefined);
  if (metaBytes) files.push({ ...meta, read: async () => metaBytes });
  return cifar10FromFiles(files, directory);
}

/** Fashion-MNIST's four IDX files (MNIST's names) from a URL, default data/fashion-mnist/, or chosen files. */
export async function readFashionMnist(location: DatasetLocation = ''): Promise<ImageDataset> {
  return readIdxDataset(location === '' ? FASHION_MNIST_URL : location, {
    kind: 'fashion-mnist',
    classNames: FASHION_MNIST_CLASSES,
  });
}

/** The browser's own decoder: the largest centred square drawn at size x size on a 2D canvas. */
export const decodeInBrowser: DecodeImage = async (bytes, _name, size) => {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  try {
    const side = Math.min(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(size, size);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas context');
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    return { data: context.getImageData(0, 0, size, size).data, channels: 4 };
  } finally {
    bitmap.close();
  }
};

/** A folder the user chose (or dropped images): a URL cannot be listed, so files only. */
export async function readImageFolder(
  location: DatasetLocation,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  if (typeof location === 'string') {
    throw new DataFileError(
      `${location}: a page cannot list a folder by URL; choose the folder (or drop its images) instead.`,
    );
  }
  const { files, source } = sourceFilesFromFileList(location);
  return imageFolderFromFiles(files, source, options, decodeInBrowser);
}

/** Where the page fetches Twemoji when it names no URL: the package's emoji.json and img/twitter/64/ (vite.config.ts serves them). */
export const EMOJI_URL = 'data/emoji/';

/**
 * Twemoji from a URL laid out as the npm package emoji-datasource-twitter (default data/emoji/),
 * decoded by the browser; which images, their split and the compositing on white are
 * emoji-format.ts's, as for the command line.
 */
export async function readEmoji(
  location: DatasetLocation = '',
  options: { size?: number } = {},
): Promise<ImageDataset> {
  const size = options.size ?? 32;
  checkEmojiSize(size);
  if (typeof location !== 'string')
    throw new DataFileError('emoji: the page reads Twemoji from its server (data/emoji/), not from chosen files.');
  const directory = directoryUrl(location === '' ? EMOJI_URL : location);
  const json = urlFile(directory, 'emoji.json');
  let text: string;
  try {
    text = new TextDecoder().decode(await json.read());
  } catch (err) {
    if (location !== '') throw err;
    throw new DataFileError(
      `Twemoji: the page's server does not have the npm package ${EMOJI_PACKAGE} (${EMOJI_INSTALL}).`,
    );
  }
  const images = parseEmojiJson(text, json.name);
  const read: ReadEmoji = async (file, side) => {
    const png = urlFile(directory, `${EMOJI_IMAGE_DIR}/${file}`);
    const bytes = await png.read();
    try {
      // getImageData hands the pixels back unpremultiplied, whatever the canvas keeps inside.
      const { data } = await decodeInBrowser(bytes, file, side);
      return { data, premultiplied: false };
    } catch (err) {
      throw new DataFileError(
        `${png.name}: cannot decode the PNG (${(err as Error).message}); it is truncated or damaged.`,
      );
    }
  };
  // Each read waits on the server more than on the decoder: many in flight hide the round trips.
  return emojiDataset(images, location === '' ? `npm package ${EMOJI_PACKAGE}` : directory, size, read, 48);
}
