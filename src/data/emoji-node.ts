// Node: Twemoji from the installed npm package emoji-datasource-twitter (an optional dependency, see
// docs/training.md), or from a directory laid out as the package is (emoji.json, img/twitter/64/).
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import {
  checkEmojiSize,
  EMOJI_IMAGE_DIR,
  EMOJI_INSTALL,
  EMOJI_PACKAGE,
  emojiDataset,
  parseEmojiJson,
  type ReadEmoji,
} from './emoji-format';
import { DataFileError } from './idx';
import type { ImageDataset } from './image-dataset';

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${EMOJI_PACKAGE}/package.json`));
  } catch {
    throw new DataFileError(`npm package ${EMOJI_PACKAGE}: not installed; run ${EMOJI_INSTALL}.`);
  }
}

export interface EmojiOptions {
  /** Side of the square images (default 32). */
  size?: number;
}

/** '' reads the installed package; a directory: one laid out as the package. */
export async function readEmoji(location = '', options: EmojiOptions = {}): Promise<ImageDataset> {
  const size = options.size ?? 32;
  checkEmojiSize(size);
  const dir = location === '' ? packageDir() : location;
  const json = join(dir, 'emoji.json');
  if (!existsSync(json))
    throw new DataFileError(
      `${json}: missing; ${location === '' ? `reinstall it (${EMOJI_INSTALL})` : 'not a copy of the emoji-datasource-twitter package'}.`,
    );
  const images = parseEmojiJson(readFileSync(json, 'utf8'), json);
  const read: ReadEmoji = async (file, side) => {
    const path = join(dir, EMOJI_IMAGE_DIR, file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new DataFileError(
        `${path}: missing or unreadable; emoji.json lists it (${location === '' ? `reinstall: ${EMOJI_INSTALL}` : 'restore it'}).`,
      );
    }
    try {
      // sharp resizes RGBA premultiplied and hands it back unpremultiplied.
      const { data } = await sharp(bytes)
        .ensureAlpha()
        .resize(side, side, { kernel: 'lanczos3', fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), premultiplied: false };
    } catch (err) {
      throw new DataFileError(
        `${path}: cannot decode the PNG (${(err as Error).message.replace(/\s+/g, ' ').replace(/[\s:.]+$/, '')}); it is truncated or damaged.`,
      );
    }
  };
  return emojiDataset(images, location === '' ? `npm package ${EMOJI_PACKAGE}` : dir, size, read);
}
