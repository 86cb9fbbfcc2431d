// A folder of PNG or JPEG images of any size as an ImageDataset. Browser-safe: which files count,
// the classes, the split and the planar layout are decided here; each half only lists the files and
// decodes one image to size x size (Node: sharp; browser: createImageBitmap and a 2D canvas).
//
// Rules, the same in both halves:
// - PNG and JPEG (.png, .jpg, .jpeg, any case) are read. Another image format (.gif, .webp, .bmp,
//   .tif, .avif, .heic, .svg) is an error naming the file, since the user meant it to be used; any
//   other file (README.txt, labels.csv, Thumbs.db) and anything hidden (.DS_Store, .git/) is skipped.
// - Labels: when the images lie in subfolders, each top-level subfolder is a class (sorted by name,
//   class i is the i-th), images nested deeper belong to their top-level folder; images directly in
//   the folder are then an error. When they lie in the folder itself, the set is unlabelled.
// - Aspect ratio: the largest centred square is cut out, then resized to size x size.
// - Transparency is composited onto black; grey is Rec. 601 luma (0.299 R + 0.587 G + 0.114 B).
// - Split: files sorted by path, shuffled by `seed`; 10% validation, 10% test (at least 1 each), the
//   rest training, so at least 3 images are needed.
import { DataFileError } from './idx';
import { checkDataset, seededPermutation, sliceSplit, type ImageDataset } from './image-dataset';
import type { SourceFile } from './source-file';

export const READ_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
const UNREAD_IMAGE_EXTENSIONS = ['.gif', '.webp', '.bmp', '.tif', '.tiff', '.avif', '.heic', '.heif', '.svg', '.ico'];

export interface ImageFolderOptions {
  /** Side of the square images (default 32). */
  size?: number;
  /** One grey channel instead of three colour channels. */
  grey?: boolean;
  /** Seed of the shuffle before the split (default 1). */
  seed?: number;
}

/** A decoded image, size x size, interleaved: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface DecodedImage {
  data: Uint8Array | Uint8ClampedArray;
  channels: number;
}

/** Decodes `bytes` (a PNG or JPEG) to size x size, centre-cropped; throws with a reason when it cannot. */
export type DecodeImage = (bytes: Uint8Array, name: string, size: number) => Promise<DecodedImage>;

export interface FolderPlan {
  images: { file: SourceFile; label?: number }[];
  classNames?: string[];
  skipped: number;
}

function extension(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/** Which files are images, and their classes, by the rules above. */
export function planImageFolder(files: SourceFile[], source: string): FolderPlan {
  let skipped = 0;
  const images: SourceFile[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const ext = extension(file.path);
    if (
      file.path.split('/').some((part) => part.startsWith('.')) ||
      !(READ_EXTENSIONS.includes(ext) || UNREAD_IMAGE_EXTENSIONS.includes(ext))
    ) {
      skipped++;
      continue;
    }
    if (!READ_EXTENSIONS.includes(ext))
      throw new DataFileError(
        `${file.name}: a ${ext} image; only PNG and JPEG are read: convert it or move it out of the folder.`,
      );
    images.push(file);
  }
  if (images.length === 0) {
    throw new DataFileError(
      `${source}: no PNG or JPEG images${skipped ? ` (${skipped} other file${skipped === 1 ? '' : 's'} skipped)` : ''}; the folder is empty.`,
    );
  }
  const nested = images.filter((f) => f.path.includes('/'));
  if (nested.length === 0) return { images: images.map((file) => ({ file })), skipped };
  const loose = images.find((f) => !f.path.includes('/'));
  if (loose) {
    throw new DataFileError(
      `${loose.name}: an image beside class folders (${nested[0].path.split('/')[0]}/ ...); move it into a class folder or out of the folder.`,
    );
  }
  const classNames = [...new Set(images.map((f) => f.path.split('/')[0]))].sort();
  if (classNames.length > 256)
    throw new DataFileError(`${source}: ${classNames.length} class folders; labels are bytes, so at most 256.`);
  const index = new Map(classNames.map((name, i) => [name, i]));
  return { images: images.map((file) => ({ file, label: index.get(file.path.split('/')[0])! })), classNames, skipped };
}

/** Writes a decoded image planar (channel by channel) into `out` at `offset`, as colour or grey. */
export function writePlanar(
  image: DecodedImage,
  size: number,
  grey: boolean,
  out: Uint8Array,
  offset: number,
  name: string,
): void {
  const { data, channels } = image;
  const area = size * size;
  if (!(channels >= 1 && channels <= 4) || data.length !== area * channels) {
    throw new DataFileError(`${name}: decoded to ${data.length} bytes in ${channels} channels, not ${size} x ${size}.`);
  }
  const hasAlpha = channels === 2 || channels === 4;
  const colours = hasAlpha ? channels - 1 : channels;
  for (let p = 0; p < area; p++) {
    const at = p * channels;
    const alpha = hasAlpha ? data[at + channels - 1] / 255 : 1;
    const r = data[at] * alpha;
    const g = colours === 3 ? data[at + 1] * alpha : r;
    const b = colours === 3 ? data[at + 2] * alpha : r;
    if (grey) {
      out[offset + p] = Math.round(colours === 3 ? 0.299 * r + 0.587 * g + 0.114 * b : r);
    } else {
      out[offset + p] = Math.round(r);
      out[offset + area + p] = Math.round(g);
      out[offset + 2 * area + p] = Math.round(b);
    }
  }
}

/**
 * Runs `work` over `items` with at most `limit` in flight (decoders use threads or memory). A failure
 * stops new work, and the error thrown is the first item's in order that failed, whichever decoder
 * finished first: every item before it had started, so the same folder always names the same file.
 */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: { index: number; error: unknown }[] = [];
  const worker = async () => {
    while (next < items.length && failures.length === 0) {
      const i = next++;
      try {
        await work(items[i], i);
      } catch (error) {
        failures.push({ index: i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures.reduce((first, f) => (f.index < first.index ? f : first)).error;
}

export async function imageFolderFromFiles(
  files: SourceFile[],
  source: string,
  options: ImageFolderOptions,
  decode: DecodeImage,
): Promise<ImageDataset> {
  const size = options.size ?? 32;
  const grey = options.grey ?? false;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(size) || size < 1 || size > 1024)
    throw new DataFileError(`${source}: image size ${size} is not an integer 1..1024.`);
  const plan = planImageFolder(files, source);
  const n = plan.images.length;
  if (n < 3)
    throw new DataFileError(
      `${source}: ${n} image${n === 1 ? '' : 's'}; a split into train, validation and test needs at least 3.`,
    );
  const validCount = Math.max(1, Math.floor(n / 10));
  const testCount = Math.max(1, Math.floor(n / 10));
  const trainCount = n - validCount - testCount;
  const channels = grey ? 1 : 3;
  const bytesPerImage = channels * size * size;
  const pixels = new Uint8Array(n * bytesPerImage);
  const labels = plan.classNames ? new Uint8Array(n) : undefined;
  const order = seededPermutation(n, seed);
  await forEachLimited(Array.from(order), 4, async (slot, i) => {
    // Image i of the sorted list goes to position `slot` of the shuffled one.
    const { file, label } = plan.images[i];
    const bytes = await file.read();
    // The decoders' own words for this ("Input Bit Array is empty") say nothing about the file.
    if (bytes.length === 0)
      throw new DataFileError(
        `${file.name}: an empty file (0 bytes), not an image; replace it or move it out of the folder.`,
      );
    let image: DecodedImage;
    try {
      image = await decode(bytes, file.name, size);
    } catch (err) {
      if (err instanceof DataFileError) throw err;
      throw new DataFileError(
        `${file.name}: cannot decode the image (${(err as Error).message.replace(/\s+/g, ' ').replace(/[\s:.]+$/, '')}); it is truncated, damaged or not a PNG or JPEG.`,
      );
    }
    writePlanar(image, size, grey, pixels, slot * bytesPerImage, file.name);
    if (labels) labels[slot] = label!;
  });
  return checkDataset({
    kind: 'images',
    source,
    channels,
    height: size,
    width: size,
    train: sliceSplit(pixels, labels, bytesPerImage, 0, trainCount),
    valid: sliceSplit(pixels, labels, bytesPerImage, trainCount, validCount),
    test: sliceSplit(pixels, labels, bytesPerImage, trainCount + validCount, testCount),
    classes: plan.classNames?.length ?? 0,
    classNames: plan.classNames,
  });
}
