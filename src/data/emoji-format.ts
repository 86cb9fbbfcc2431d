// Twemoji from the npm package emoji-datasource-twitter as a labelled colour ImageDataset.
// Browser-safe: which images, their labels, the split and the compositing are decided here; the Node
// half (./emoji-node.ts) reads the files and resizes them.
//
// - Images: every emoji.json entry with has_img_twitter, and every skin-tone variation of it that has
//   one, from img/twitter/64/ (64 x 64 RGBA PNGs); about 3,700 in 16.0.0.
// - Labels: the entry's `category` (a variation keeps its base's), classes sorted by name.
// - Resize: 64 -> size with sharp's lanczos3 on premultiplied alpha, then alpha is composited onto
//   white (255, 255, 255): Twemoji are drawn for light backgrounds, and black would merge with their
//   dark outlines.
// - Split, stratified by category: within a category, images in file-name order; every 10th (index
//   9, 19, ...) is test, every 10th from index 4 is validation, the rest (80%) training. No seed:
//   the same package always gives the same split.
import { DataFileError } from './idx';
import { checkDataset, sliceSplit, type ImageDataset } from './image-dataset';

export const EMOJI_PACKAGE = 'emoji-datasource-twitter';
export const EMOJI_INSTALL = `npm install ${EMOJI_PACKAGE}@16.0.0`;
/** Where the 64 x 64 images lie inside the package. */
export const EMOJI_IMAGE_DIR = 'img/twitter/64';
export const EMOJI_BACKGROUND = 255;

/** The side of the square images read (the package's are 64 x 64): one line when it is out of range. */
export function checkEmojiSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 64)
    throw new DataFileError(`emoji: image size ${size} is not an integer 1..64 (the package's images are 64 x 64).`);
}

export interface EmojiImage {
  file: string;
  category: string;
}

interface EmojiEntry {
  image?: string;
  category?: string;
  has_img_twitter?: boolean;
  skin_variations?: Record<string, { image?: string; has_img_twitter?: boolean }>;
}

/** The images emoji.json lists for Twitter, with their categories, sorted by file name. */
export function parseEmojiJson(text: string, source: string): EmojiImage[] {
  let entries: EmojiEntry[];
  try {
    entries = JSON.parse(text) as EmojiEntry[];
  } catch (err) {
    throw new DataFileError(`${source}: not JSON (${(err as Error).message}); reinstall it (${EMOJI_INSTALL}).`);
  }
  if (!Array.isArray(entries))
    throw new DataFileError(`${source}: not a list of emoji; reinstall it (${EMOJI_INSTALL}).`);
  const images: EmojiImage[] = [];
  for (const entry of entries) {
    if (!entry.has_img_twitter || !entry.image || !entry.category) continue;
    images.push({ file: entry.image, category: entry.category });
    for (const variation of Object.values(entry.skin_variations ?? {})) {
      if (variation.has_img_twitter && variation.image)
        images.push({ file: variation.image, category: entry.category });
    }
  }
  if (images.length === 0)
    throw new DataFileError(`${source}: no Twitter images listed; reinstall it (${EMOJI_INSTALL}).`);
  return images.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export type EmojiRole = 'train' | 'valid' | 'test';

/** Each image's split, by its index within its category (see the header). */
export function emojiSplit(images: EmojiImage[]): EmojiRole[] {
  const seen = new Map<string, number>();
  return images.map(({ category }) => {
    const i = seen.get(category) ?? 0;
    seen.set(category, i + 1);
    return i % 10 === 9 ? 'test' : i % 10 === 4 ? 'valid' : 'train';
  });
}

/** An RGBA image, size x size, interleaved, premultiplied or not as `premultiplied` says. */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  premultiplied: boolean;
}

export type ReadEmoji = (file: string, size: number) => Promise<RgbaImage>;

/** Composites one RGBA image onto the background and writes it planar at `offset`. */
function writeComposited(image: RgbaImage, size: number, out: Uint8Array, offset: number, name: string): void {
  const area = size * size;
  if (image.data.length !== area * 4)
    throw new DataFileError(`${name}: decoded to ${image.data.length} bytes, not ${size} x ${size} RGBA.`);
  for (let p = 0; p < area; p++) {
    const alpha = image.data[p * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) {
      const colour = image.data[p * 4 + c] * (image.premultiplied ? 1 : alpha);
      out[offset + c * area + p] = Math.round(colour + (1 - alpha) * EMOJI_BACKGROUND);
    }
  }
}

/** `inFlight`: reads at once (Node's decode on sharp's threads; a page's are fetches, which want more). */
export async function emojiDataset(
  images: EmojiImage[],
  source: string,
  size: number,
  read: ReadEmoji,
  inFlight = 8,
): Promise<ImageDataset> {
  const classNames = [...new Set(images.map((image) => image.category))].sort();
  const index = new Map(classNames.map((name, i) => [name, i]));
  const roles = emojiSplit(images);
  const order = (['train', 'valid', 'test'] as const).flatMap((role) =>
    images.flatMap((image, i) => (roles[i] === role ? [i] : [])),
  );
  const bytesPerImage = 3 * size * size;
  const pixels = new Uint8Array(images.length * bytesPerImage);
  const labels = new Uint8Array(images.length);
  for (let start = 0; start < order.length; start += inFlight) {
    const batch = order.slice(start, start + inFlight);
    const decoded = await Promise.all(batch.map((i) => read(images[i].file, size)));
    batch.forEach((i, k) => {
      writeComposited(decoded[k], size, pixels, (start + k) * bytesPerImage, images[i].file);
      labels[start + k] = index.get(images[i].category)!;
    });
  }
  const count = (role: EmojiRole) => roles.filter((r) => r === role).length;
  const [train, valid] = [count('train'), count('valid')];
  return checkDataset({
    kind: 'emoji',
    source,
    channels: 3,
    height: size,
    width: size,
    train: sliceSplit(pixels, labels, bytesPerImage, 0, train),
    valid: sliceSplit(pixels, labels, bytesPerImage, train, valid),
    test: sliceSplit(pixels, labels, bytesPerImage, train + valid, images.length - train - valid),
    classes: classNames.length,
    classNames,
  });
}
