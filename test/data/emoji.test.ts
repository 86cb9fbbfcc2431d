// Twemoji (--format emoji): a few of emoji-datasource-twitter's own images in a directory laid out as
// the package, read at 16 x 16: shape, compositing onto white, category labels, the stratified
// split; damaged and missing images refused by name; the presets.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { readEmoji } from '../../src/data/dataset-files-node';
import { EMOJI_IMAGE_DIR, emojiSplit, parseEmojiJson } from '../../src/data/emoji-format';
import { DataFileError } from '../../src/data/idx';
import { presetConfig, validateConfig } from '../../src/train/config';

const root = mkdtempSync(join(tmpdir(), 'gan-emoji-'));
after(() => rmSync(root, { recursive: true, force: true }));
const packageDir = dirname(createRequire(import.meta.url).resolve('emoji-datasource-twitter/package.json'));
const listed = JSON.parse(readFileSync(join(packageDir, 'emoji.json'), 'utf8')) as {
  image: string;
  category: string;
  has_img_twitter: boolean;
}[];

/** A copy of the package holding `entries`' images (from the package, or `own` bytes by name). */
function fixture(
  name: string,
  entries: { image: string; category: string }[],
  own: Record<string, Uint8Array> = {},
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, EMOJI_IMAGE_DIR), { recursive: true });
  writeFileSync(join(dir, 'emoji.json'), JSON.stringify(entries.map((e) => ({ ...e, has_img_twitter: true }))));
  for (const { image } of entries) {
    const to = join(dir, EMOJI_IMAGE_DIR, image);
    if (own[image]) writeFileSync(to, own[image]);
    else if (!(image in own)) copyFileSync(join(packageDir, EMOJI_IMAGE_DIR, image), to);
  }
  return dir;
}

function png(rgba: [number, number, number, number]): Buffer {
  const image = new PNG({ width: 64, height: 64 });
  for (let p = 0; p < 64 * 64; p++) image.data.set(rgba, p * 4);
  return PNG.sync.write(image);
}

// Ten smileys and five flags from the package, plus two drawn here to check the compositing.
const smileys = listed.filter((e) => e.has_img_twitter && e.category === 'Smileys & Emotion').slice(0, 10);
const flags = listed.filter((e) => e.has_img_twitter && e.category === 'Flags').slice(0, 5);
const drawn = { 'zz-clear.png': png([0, 0, 0, 0]), 'zz-red.png': png([255, 0, 0, 255]) };
const entries = [
  ...smileys,
  ...flags,
  { image: 'zz-clear.png', category: 'Symbols' },
  { image: 'zz-red.png', category: 'Symbols' },
].map(({ image, category }) => ({ image, category }));

test('emoji: 3 x 16 x 16 colour images labelled by category, split 8 / 1 / 1 in every ten of a category', async () => {
  const d = await readEmoji(fixture('good', entries, drawn), { size: 16 });
  assert.deepEqual([d.channels, d.height, d.width, d.classes], [3, 16, 16, 3]);
  assert.deepEqual(d.classNames, ['Flags', 'Smileys & Emotion', 'Symbols']);
  // Smileys: 10 -> 8 train, 1 valid (index 4), 1 test (index 9); flags 5 -> 4 + 1; symbols 2 train.
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [14, 2, 1]);
  assert.deepEqual([...d.test.labels!], [1]);
  assert.deepEqual([...d.valid.labels!].sort(), [0, 1]);
  const counts = [0, 0, 0];
  for (const l of d.train.labels!) counts[l]++;
  assert.deepEqual(counts, [4, 8, 2]);
  // The last two training images are the drawn ones, in file-name order: clear, then red.
  const area = 16 * 16;
  const image = (i: number) => d.train.pixels.subarray(i * 3 * area, (i + 1) * 3 * area);
  assert.ok(
    image(12).every((v) => v === 255),
    'a transparent image is white',
  );
  const red = image(13);
  assert.ok(
    red.subarray(0, area).every((v) => v === 255) && red.subarray(area).every((v) => v === 0),
    'an opaque image keeps its colour',
  );
  // A real emoji: white corners (transparent there), and colour somewhere.
  const smiley = d.train.pixels.subarray(4 * 3 * area, 5 * 3 * area);
  assert.deepEqual([smiley[0], smiley[area], smiley[2 * area]], [255, 255, 255]);
  assert.ok(smiley.some((v) => v < 128));
  const again = await readEmoji(join(root, 'good'), { size: 16 });
  assert.deepEqual(again.train.pixels, d.train.pixels);
  assert.deepEqual(again.test.pixels, d.test.pixels);
});

test('emoji: the installed package splits every category 80 / 10 / 10, the same each time', () => {
  const images = parseEmojiJson(readFileSync(join(packageDir, 'emoji.json'), 'utf8'), 'emoji.json');
  assert.ok(images.length > 3000, `${images.length} images`);
  const roles = emojiSplit(images);
  assert.deepEqual(emojiSplit(images), roles);
  for (const category of new Set(images.map((i) => i.category))) {
    const mine = roles.filter((_, i) => images[i].category === category);
    const test = mine.filter((r) => r === 'test').length;
    assert.equal(test, Math.floor(mine.length / 10), category);
  }
});

async function refused(dir: string, message: RegExp): Promise<void> {
  await assert.rejects(readEmoji(dir, { size: 16 }), (err: Error) => {
    assert.ok(err instanceof DataFileError, err.message);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

test('emoji: a damaged PNG, a missing image and a missing emoji.json are refused by name', async () => {
  const truncated = readFileSync(join(packageDir, EMOJI_IMAGE_DIR, smileys[3].image)).subarray(0, 100);
  await refused(
    fixture('damaged', entries, { ...drawn, [smileys[3].image]: truncated }),
    new RegExp(`${smileys[3].image}: cannot decode the PNG .*truncated or damaged`),
  );
  await refused(
    fixture('missing', entries, { ...drawn, [flags[2].image]: undefined as unknown as Uint8Array }),
    new RegExp(`${flags[2].image}: missing or unreadable; emoji.json lists it`),
  );
  mkdirSync(join(root, 'empty'));
  await refused(join(root, 'empty'), /empty\/emoji\.json: missing/);
});

test('emoji-small and cemoji-small: 3 x 32 x 32 Twemoji, cemoji-small on the 10 categories', () => {
  const small = validateConfig(presetConfig('emoji-small'));
  assert.deepEqual([small.data, small.image, small.classes ?? 0], ['emoji', { channels: 3, height: 32, width: 32 }, 0]);
  const conditional = validateConfig(presetConfig('cemoji-small'));
  assert.equal(conditional.classes, 10);
  assert.equal(conditional.optimizer.classLrScale, 10);
});
