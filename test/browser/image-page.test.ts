// The training page (examples/index.html) on the user's own images, in headless Chromium on
// SwiftShader: a folder of colour PNG files written here is chosen through the page's folder input
// (<input type="file" webkitdirectory>, as a user would), and the page trains on it and draws colour
// samples at the images' size. A folder holding a file that is not a PNG is refused with one message
// naming the file while the model in training goes on. A conditional model gets a class picker that
// redraws the fixed-noise grid for the class chosen, and an interpolation between two classes at
// fixed z whose first image is that class's sample of the same z, and its views of E and of the
// completion disabled with the reason. Views are saved under test-artifacts/.
//
// Headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots, so the views
// are checked through the page's snapshot(), which draws them with the same render pipeline into an
// offscreen texture.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { buildPages, launchBrowser, serveSite, type Site } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';
import { seededRandom } from '../helpers';

const root = new URL('../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');

// One build, server and browser for both tests (building the pages is most of a test's time).
let pagesDir: string;
let site: Site;
let browser: Browser;
before(async () => {
  pagesDir = await buildPages();
  site = await serveSite(pagesDir, packagedMnistDir());
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await site?.close();
  if (pagesDir) rmSync(pagesDir, { recursive: true, force: true });
});

/** The image size for the next folder: set as a user would, the field left so that its change is taken now. */
async function setImageSize(page: Page, side: number): Promise<void> {
  await page.fill('#image-size', String(side));
  await page.locator('#image-size').blur();
}

/** small-mnist much narrower (as the MNIST page test's): quick on a software adapter. G's output follows the data. */
const SMALL_MODEL = {
  generator: {
    layers: [
      { units: 64, pieces: 1, activation: 'relu' },
      { units: 784, pieces: 1, activation: 'sigmoid' },
    ],
  },
  discriminator: {
    layers: [
      { units: 16, pieces: 3, activation: 'maxout' },
      { units: 1, pieces: 1, activation: 'identity' },
    ],
    initRange: 0.005,
  },
  optimizer: { lr: 0.001 },
  batch: 16,
};

/** Each class's colour: every image is mostly this colour with a lighter square somewhere. */
const CLASS_COLOURS: Record<string, [number, number, number]> = { embers: [210, 40, 120], dusk: [190, 20, 150] };
const SIDE = 16;

/**
 * A folder of colour PNGs (24 x 20 pixels, so the page cuts out the centred square and resizes it),
 * one subfolder per class. Every image is red-heavy with little green: the data's mean colour, which
 * G's output bias starts from (the preset's outputBiasFromData), orders the channels red > blue > green.
 */
function imageFolder(extra: Record<string, Buffer> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gan-images-')), 'pictures');
  const random = seededRandom(11);
  for (const [name, colour] of Object.entries(CLASS_COLOURS)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const png = new PNG({ width: 24, height: 20 });
      const [sx, sy] = [Math.floor(random() * 14), Math.floor(random() * 10)];
      for (let y = 0; y < 20; y++) {
        for (let x = 0; x < 24; x++) {
          const lit = x >= sx && x < sx + 8 && y >= sy && y < sy + 8 ? 40 : 0;
          png.data.set(
            [...colour.map((c) => Math.min(255, c + lit + Math.floor(random() * 20))), 255],
            (y * 24 + x) * 4,
          );
        }
      }
      writeFileSync(join(dir, name, `${i}.png`), PNG.sync.write(png));
    }
  }
  for (const [path, bytes] of Object.entries(extra)) writeFileSync(join(dir, path), bytes);
  return dir;
}

interface PageApi {
  ganPage: {
    config: { data: string; classes: number; image?: { channels: number; height: number; width: number } };
    trainer: { sampleClasses?: Uint32Array };
    snapshot(view: string): Promise<{ width: number; height: number; pixels: number[] }>;
    readFixedSamples(): Promise<number[]>;
  };
}

type Snapshot = { width: number; height: number; pixels: number[] };

const iteration = (page: Page) => page.evaluate(() => Number(document.body.dataset.iteration ?? 0));
const untilIteration = (page: Page, n: number) =>
  page.waitForFunction((n) => Number(document.body.dataset.iteration ?? 0) >= n, n, { timeout: 180_000 });
const config = (page: Page) => page.evaluate(() => (window as unknown as PageApi).ganPage.config);

async function snapshot(page: Page, view: string, name: string): Promise<Snapshot> {
  const shot = await page.evaluate((view) => (window as unknown as PageApi).ganPage.snapshot(view), view);
  const png = new PNG({ width: shot.width, height: shot.height });
  png.data.set(shot.pixels);
  writeFileSync(join(artifacts, name), PNG.sync.write(png));
  return shot;
}

/** Mean red, green and blue over the images of a grid (cells of `side` * 2 + 1 pixels from (1, 1), zoom 2), and the share of coloured pixels. */
function gridColour(
  { width, height, pixels }: Snapshot,
  side: number,
): { mean: [number, number, number]; coloured: number } {
  const cell = side * 2 + 1;
  const sum = [0, 0, 0];
  let count = 0;
  let coloured = 0;
  for (let y = 1; y < height; y++) {
    for (let x = 1; x < width; x++) {
      if ((x - 1) % cell === cell - 1 || (y - 1) % cell === cell - 1) continue;
      const at = (y * width + x) * 4;
      const [r, g, b] = [pixels[at], pixels[at + 1], pixels[at + 2]];
      // Cells past the images drawn are background (40, 40, 40).
      if (r === 40 && g === 40 && b === 40) continue;
      sum[0] += r;
      sum[1] += g;
      sum[2] += b;
      count++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 30) coloured++;
    }
  }
  return { mean: sum.map((s) => s / count) as [number, number, number], coloured: coloured / count };
}

/** The pixels of image `index` of a grid (zoom 2, `columns` a row), row after row of RGB. */
function cellPixels({ width, pixels }: Snapshot, index: number, columns: number, side: number): number[] {
  const cell = side * 2 + 1;
  const [ox, oy] = [(index % columns) * cell + 1, Math.floor(index / columns) * cell + 1];
  const out: number[] = [];
  for (let y = 0; y < side * 2; y++)
    for (let x = 0; x < side * 2; x++)
      out.push(...pixels.slice(((oy + y) * width + ox + x) * 4, ((oy + y) * width + ox + x) * 4 + 3));
  return out;
}

test('the page trains on a chosen folder of colour images, draws colour samples at their size, and refuses a bad file by name while training goes on', async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  const bad = imageFolder({ 'embers/broken.png': Buffer.from('this is not a PNG') });
  const good = imageFolder();

  {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(
      `${site.url}?preset=small-mnist&config=${encodeURIComponent(JSON.stringify(SMALL_MODEL))}&autostart=1`,
    );
    await untilIteration(page, 3);
    phase('training on MNIST');
    assert.equal((await config(page)).data, 'mnist');

    await page.selectOption('#data', 'images');
    assert.equal(await page.isVisible('#folder'), true, 'choosing "your images" shows the folder input');
    await setImageSize(page, SIDE);
    await page.setInputFiles('#folder', bad);
    await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
    const message = (await page.textContent('#error')) ?? '';
    assert.match(message, /^pictures\/embers\/broken\.png: cannot decode the image/, message);
    const before = await iteration(page);
    await untilIteration(page, before + 2);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'running', 'training went on');
    assert.equal((await config(page)).data, 'mnist', 'the model in training is the one before');
    phase('bad folder refused by name, MNIST training went on');

    await page.setInputFiles('#folder', good);
    await page.waitForFunction(() => (window as unknown as PageApi).ganPage.config?.data === 'images', null, {
      timeout: 120_000,
    });
    assert.ok(await page.isHidden('#error'), 'a good folder clears the message');
    const trained = await config(page);
    assert.deepEqual(trained.image, { channels: 3, height: SIDE, width: SIDE });
    assert.equal(trained.classes, 0, 'small-mnist is unconditional, whatever the folders');
    const status = (await page.textContent('#status')) ?? '';
    assert.match(status, /small-mnist on your images \(pictures: 24 images, 3 x 16 x 16\) · iteration \d+/, status);
    // Training starts over on the images: the first window starts from iteration 0.
    await untilIteration(page, 12);
    await page.click('#start');
    await page.waitForFunction(() => document.body.dataset.state === 'paused');
    phase(`trained ${await iteration(page)} iterations on the images`);

    const cell = SIDE * 2 + 1;
    for (const [view, name, count, columns] of [
      ['fixed', 'image-page-fixed-noise.png', 100, 10],
      ['samples', 'image-page-samples.png', 16, 10],
      ['strip', 'image-page-interpolation.png', 12, 12],
    ] as const) {
      const shot = await snapshot(page, view, name);
      assert.deepEqual(
        [shot.width, shot.height],
        [columns * cell + 1, Math.ceil(count / columns) * cell + 1],
        `${view}: a grid of ${count} images of ${SIDE} x ${SIDE}`,
      );
      const { mean, coloured } = gridColour(shot, SIDE);
      // The data are red-heavy with little green: samples drawn as grey, or with their planes in the wrong channels, fail this.
      assert.ok(coloured > 0.5, `${view}: ${(100 * coloured).toFixed(0)}% of the pixels are coloured`);
      assert.ok(
        mean[0] > mean[2] + 20 && mean[2] > mean[1] + 20,
        `${view}: mean colour ${mean.map((m) => m.toFixed(0)).join(', ')}, not the data's red > blue > green`,
      );
    }
    phase('colour views checked');
    await page.close();
  }
});

test('a conditional model: the class picker redraws the fixed-noise grid, and the class interpolation starts at the chosen class of the same z', async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  const good = imageFolder();

  {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(`${site.url}?preset=cmnist-small&config=${encodeURIComponent(JSON.stringify(SMALL_MODEL))}`);
    await page.waitForFunction(() => document.body.dataset.state === 'paused', null, { timeout: 180_000 });
    await page.click('#step');
    await untilIteration(page, 1);
    phase('cmnist-small built on MNIST');
    assert.equal(await page.isVisible('#class'), true, 'a conditional model shows the class picker');
    assert.equal(await page.isVisible('#class-strip'), true, 'and the class interpolation');
    const optionTexts = () => page.$$eval('#class option', (options) => options.map((o) => o.textContent));
    assert.deepEqual(await optionTexts(), ['one class per row', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // E and the completion fit z alone: a conditional model has them disabled, with the reason.
    for (const view of ['inference', 'inpaint'])
      assert.match(
        (await page.textContent(`#${view}-reason`)) ?? '',
        /conditional GAN: E and the completion fit z alone/,
      );
    assert.equal(await page.isDisabled('#train-encoder'), true);
    assert.equal(await page.isDisabled('#inpaint-bottom'), true);

    const sampleClasses = () =>
      page.evaluate(() => Array.from((window as unknown as PageApi).ganPage.trainer.sampleClasses ?? []));
    const rows = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    assert.deepEqual(
      (await sampleClasses()).slice(0, 21),
      [...Array(10).fill(0), ...Array(10).fill(1), 2],
      'one class per row',
    );
    await page.selectOption('#class', '3');
    await page.waitForFunction(() => ((window as unknown as PageApi).ganPage.trainer.sampleClasses ?? [])[0] === 3);
    assert.deepEqual(await sampleClasses(), Array(100).fill(3));
    const threes = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    // Row 3 was class 3 already: the same z and class give the same digits; the other rows change.
    assert.deepEqual(threes.slice(30 * 784, 40 * 784), rows.slice(30 * 784, 40 * 784), 'row 3 kept its class and z');
    assert.notDeepEqual(threes.slice(0, 784), rows.slice(0, 784), 'sample 0 is drawn as a 3 now, not a 0');
    const fixed = await snapshot(page, 'fixed', 'image-page-class-3.png');

    await page.selectOption('#class-from', '3');
    await page.selectOption('#class-to', '8');
    // The page's actions run in order between windows: the snapshot follows both choices. The
    // strip's first image is G(z_0, class 3): the grid's sample 0.
    const strip = await snapshot(page, 'class-strip', 'image-page-class-interpolation.png');
    assert.deepEqual([strip.width, strip.height], [10 * 57 + 1, 58], 'ten digits in a row');
    const first = cellPixels(strip, 0, 10, 28);
    const sample0 = cellPixels(fixed, 0, 10, 28);
    assert.ok(
      first.every((v, i) => Math.abs(v - sample0[i]) <= 1),
      "the interpolation at t = 0 is the grid's sample 0 of the chosen class",
    );
    assert.notDeepEqual(cellPixels(strip, 9, 10, 28), first, 'and ends elsewhere (class 8)');
    phase('class picker and class interpolation on MNIST');

    // The folder's two class folders become the model's classes.
    await page.selectOption('#data', 'images');
    await setImageSize(page, SIDE);
    await page.setInputFiles('#folder', good);
    await page.waitForFunction(() => (window as unknown as PageApi).ganPage.config?.data === 'images', null, {
      timeout: 120_000,
    });
    assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
    assert.equal((await config(page)).classes, 2);
    assert.deepEqual(await optionTexts(), ['one class per row', 'dusk', 'embers']);
    const colourStrip = await snapshot(page, 'class-strip', 'image-page-class-interpolation-images.png');
    assert.deepEqual([colourStrip.width, colourStrip.height], [10 * (SIDE * 2 + 1) + 1, SIDE * 2 + 2]);
    assert.ok(gridColour(colourStrip, SIDE).coloured > 0.5, 'the class interpolation of colour images is in colour');
    phase('conditional model on the image folder');
    await page.close();
  }
});
