// A folder of PNG and JPEG images: classes from nested folders, centre crop and resize, colour and
// grey planes, alpha, the seeded split, the page's File lists, and every bad file named.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { readImageFolder } from '../../src/data/dataset-files-node';
import { DataFileError } from '../../src/data/idx';
import type { ImageDataset } from '../../src/data/image-dataset';

const root = mkdtempSync(join(tmpdir(), 'gan-images-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Rgba = [number, number, number, number];
function png(width: number, height: number, colour: (x: number, y: number) => Rgba): Buffer {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) image.data.set(colour(x, y), (y * width + x) * 4);
  return PNG.sync.write(image);
}
async function jpeg(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}
function write(path: string, bytes: Uint8Array | string): string {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, bytes);
  return full;
}

/** Every image of every split with its label, in no particular order. */
function all(d: ImageDataset): { pixels: Uint8Array; label?: number }[] {
  const size = d.channels * d.height * d.width;
  return [d.train, d.valid, d.test].flatMap((s) =>
    Array.from({ length: s.count }, (_, i) => ({
      pixels: s.pixels.subarray(i * size, (i + 1) * size),
      label: s.labels?.[i],
    })),
  );
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `not a DataFileError: ${e.stack}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
    return true;
  });
}

const RED: [number, number, number] = [200, 10, 60];
const GREEN: [number, number, number] = [10, 220, 30];
/** birds/wide.png: 12 x 4, blue sides, and a centre 4 x 4 whose red is 100 + 10 y + 3 x and blue 40 + x. */
const centre = (x: number, y: number): Rgba =>
  x >= 4 && x < 8 ? [100 + 10 * y + 3 * (x - 4), 0, 40 + (x - 4), 255] : [0, 0, 255, 255];

async function writePets(dir: string): Promise<void> {
  write(
    `${dir}/cats/a.png`,
    png(6, 6, () => [...RED, 255]),
  );
  write(
    `${dir}/cats/nested/deeper/b.png`,
    png(9, 5, () => [...RED, 255]),
  );
  write(`${dir}/dogs/c.jpg`, await jpeg(16, 16, GREEN));
  write(`${dir}/dogs/d.JPEG`, await jpeg(20, 10, GREEN));
  write(`${dir}/birds/wide.png`, png(12, 4, centre));
  write(`${dir}/birds/notes.txt`, 'skipped');
  write(`${dir}/.DS_Store`, 'skipped');
  write(`${dir}/README.md`, 'skipped');
}

function checkPets(d: ImageDataset): void {
  assert.deepEqual([d.kind, d.channels, d.height, d.width, d.classes], ['images', 3, 4, 4, 3]);
  assert.deepEqual(d.classNames, ['birds', 'cats', 'dogs']);
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [3, 1, 1]);
  const images = all(d);
  assert.deepEqual(images.map((i) => i.label).sort(), [0, 1, 1, 2, 2]);
  const plane = (p: Uint8Array, c: number) => [...p.subarray(c * 16, (c + 1) * 16)];
  for (const { pixels, label } of images) {
    if (label === 1)
      for (let c = 0; c < 3; c++) assert.deepEqual(plane(pixels, c), Array(16).fill(RED[c]), `cats, channel ${c}`);
    if (label === 2)
      for (let c = 0; c < 3; c++)
        for (const v of plane(pixels, c)) assert.ok(Math.abs(v - GREEN[c]) <= 3, `dogs (JPEG), channel ${c}: ${v}`);
    if (label === 0) {
      // The centre square, exactly: red (c = 0) at (y, x) is 100 + 10 y + 3 x, blue (c = 2) 40 + x.
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          assert.equal(pixels[(0 * 4 + y) * 4 + x], 100 + 10 * y + 3 * x);
          assert.equal(pixels[(1 * 4 + y) * 4 + x], 0);
          assert.equal(pixels[(2 * 4 + y) * 4 + x], 40 + x);
        }
    }
  }
}

test('images: class folders (nested below a class too), PNG and JPEG, centre crop, planar colour, split', async () => {
  await writePets('pets');
  const d = await readImageFolder(join(root, 'pets'), { size: 4 });
  assert.equal(d.source, join(root, 'pets'));
  checkPets(d);
});

test("images: the page's File list (webkitRelativePath under the chosen folder) reads the same", async () => {
  await writePets('picked');
  const paths = [
    'cats/a.png',
    'cats/nested/deeper/b.png',
    'dogs/c.jpg',
    'dogs/d.JPEG',
    'birds/wide.png',
    'birds/notes.txt',
  ];
  const files = paths.map((p) => {
    const file = new File([readFileSync(join(root, 'picked', p))], p.split('/').pop()!);
    Object.defineProperty(file, 'webkitRelativePath', { value: `picked/${p}` });
    return file;
  });
  const d = await readImageFolder(files, { size: 4 });
  assert.equal(d.source, 'picked');
  checkPets(d);
});

test('images: unlabelled grey from images in the folder itself, resized, alpha onto black; the split follows the seed', async () => {
  for (let i = 0; i < 9; i++)
    write(
      `flat/g${i}.png`,
      png(40, 30, () => [i * 20, i * 20, i * 20, 255]),
    );
  // Colour at half alpha: composited onto black, then Rec. 601 luma.
  write(
    'flat/colour.png',
    png(10, 10, () => [...RED, 128]),
  );
  const d = await readImageFolder(join(root, 'flat'), { size: 8, grey: true, seed: 3 });
  assert.deepEqual(
    [d.channels, d.height, d.width, d.classes, d.classNames, d.train.labels],
    [1, 8, 8, 0, undefined, undefined],
  );
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [8, 1, 1]);
  const a = 128 / 255;
  const luma = Math.round(0.299 * RED[0] * a + 0.587 * RED[1] * a + 0.114 * RED[2] * a);
  const values = all(d).map(({ pixels }) => {
    assert.ok(
      pixels.every((v) => v === pixels[0]),
      'a flat image stays flat',
    );
    return pixels[0];
  });
  assert.deepEqual(
    [...values].sort((x, y) => x - y),
    [0, 20, 40, 60, 80, 100, 120, 140, 160, luma].sort((x, y) => x - y),
  );
  const again = await readImageFolder(join(root, 'flat'), { size: 8, grey: true, seed: 3 });
  assert.deepEqual(
    all(again).map((i) => i.pixels[0]),
    values,
  );
  const other = await readImageFolder(join(root, 'flat'), { size: 8, grey: true, seed: 4 });
  assert.notDeepEqual(
    all(other).map((i) => i.pixels[0]),
    values,
  );
});

test('images: bad data: truncated, not an image, another format, an empty folder, an image beside class folders, too few', async () => {
  const good = png(8, 8, () => [1, 2, 3, 255]);
  for (const name of ['a', 'b', 'c']) write(`truncated/deep/${name}.png`, good);
  const broken = write('truncated/deep/broken.png', good.subarray(0, good.length - 30));
  await rejects(
    readImageFolder(join(root, 'truncated')),
    new RegExp(`^${broken}: cannot decode the image \\(.*\\); it is truncated, damaged or not a PNG or JPEG\\.$`),
  );

  for (const name of ['a', 'b', 'c']) write(`text/${name}.png`, good);
  const text = write('text/letter.jpg', 'Dear reader, this is not a JPEG.');
  await rejects(readImageFolder(join(root, 'text')), new RegExp(`^${text}: cannot decode the image`));

  for (const name of ['a', 'b', 'c']) write(`gif/${name}.png`, good);
  const gif = write('gif/anim.GIF', 'GIF89a');
  await rejects(readImageFolder(join(root, 'gif')), new RegExp(`^${gif}: a \\.gif image; only PNG and JPEG are read`));

  write('empty/notes.txt', 'no images here');
  mkdirSync(join(root, 'empty/sub'), { recursive: true });
  await rejects(
    readImageFolder(join(root, 'empty')),
    new RegExp(`^${join(root, 'empty')}: no PNG or JPEG images \\(1 other file skipped\\); the folder is empty\\.$`),
  );
  await rejects(readImageFolder([]), /^0 chosen files: no PNG or JPEG images; the folder is empty\.$/);

  write('mixed/cats/a.png', good);
  write('mixed/cats/b.png', good);
  const loose = write('mixed/c.png', good);
  await rejects(
    readImageFolder(join(root, 'mixed')),
    new RegExp(`^${loose}: an image beside class folders \\(cats/ \\.\\.\\.\\)`),
  );

  write('two/a.png', good);
  write('two/b.png', good);
  await rejects(
    readImageFolder(join(root, 'two')),
    new RegExp(`^${join(root, 'two')}: 2 images; a split into train, validation and test needs at least 3\\.$`),
  );
  await rejects(readImageFolder(join(root, 'nowhere')), /nowhere: no such directory\.$/);
});

test('images: an entry that cannot be read (a broken link, a link loop, a pipe, an unreadable file) or an empty file is refused by name; a broken link that is no image is skipped', async () => {
  const good = png(8, 8, () => [1, 2, 3, 255]);
  const folder = (name: string) => {
    for (const image of ['a', 'b', 'c']) write(`${name}/cats/${image}.png`, good);
    return join(root, name);
  };

  const broken = join(folder('broken'), 'cats/link.png');
  symlinkSync(join(root, 'broken/cats/nowhere.png'), broken);
  await rejects(
    readImageFolder(join(root, 'broken')),
    new RegExp(
      `^${broken}: a broken symbolic link \\(to ${join(root, 'broken/cats/nowhere.png')}, which does not exist\\), not a file that can be read; fix it or move it out of the folder\\.$`,
    ),
  );

  const loop = join(folder('loop'), 'cats/one.png');
  symlinkSync(join(root, 'loop/cats/two.png'), loop);
  symlinkSync(loop, join(root, 'loop/cats/two.png'));
  await rejects(
    readImageFolder(join(root, 'loop')),
    new RegExp(
      `^${loop}: a symbolic link in a loop \\(to .*two\\.png\\), not a file that can be read; fix it or move it out of the folder\\.$`,
    ),
  );

  const pipe = join(folder('pipe'), 'cats/pipe.png');
  execFileSync('mkfifo', [pipe]);
  await rejects(
    readImageFolder(join(root, 'pipe')),
    new RegExp(`^${pipe}: a named pipe, not a file that can be read; fix it or move it out of the folder\\.$`),
  );

  // The decoder's own words were "Input Bit Array is empty".
  const empty = write('empty-file/cats/zero.png', '');
  folder('empty-file');
  await rejects(
    readImageFolder(join(root, 'empty-file')),
    new RegExp(`^${empty}: an empty file \\(0 bytes\\), not an image; replace it or move it out of the folder\\.$`),
  );

  // Root reads any file whatever its mode, so the refusal is checked where permissions hold.
  if (process.getuid?.() !== 0) {
    const locked = write('locked/cats/locked.png', good);
    folder('locked');
    chmodSync(locked, 0);
    await rejects(
      readImageFolder(join(root, 'locked')),
      new RegExp(`^${locked}: cannot read \\(permission denied\\); make it readable or move it out of the folder\\.$`),
    );
  }

  // Which files count is the folder's rule: a broken link to a text file is skipped as the text file would be.
  symlinkSync(join(root, 'notes/cats/nowhere.txt'), join(folder('notes'), 'cats/notes.txt'));
  assert.equal((await readImageFolder(join(root, 'notes'))).classes, 1);
});
