// The built pages under both ways of starting headless Chromium: the tests' own flags (SwiftShader
// through Vulkan, where WebGPU canvases work) and --enable-unsafe-webgpu alone, where the first frame
// presented to a WebGPU canvas destroys the device ("A valid external Instance reference no longer
// exists." from every later call). The pages probe for that before requesting their device and then
// draw offscreen into 2-D canvases; either way training goes on past several windows and the views
// are drawn. Checked through the pages' snapshot() (screenshots never show WebGPU canvases here) and,
// for readback views, the 2-D canvas's own pixels.
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { browserLaunchOptions, buildPages, serveSite } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';

/** small-mnist much narrower, as in train-page.test.ts: quick on a software adapter. */
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
  batch: 32,
};

type Pixels = { width: number; height: number; pixels: number[] };

/** Spread of the red channel: a blank (one-colour) view has none. */
function spread({ pixels }: { pixels: ArrayLike<number> }): number {
  let [sum, squares, n] = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) [sum, squares, n] = [sum + pixels[i], squares + pixels[i] ** 2, n + 1];
  return Math.sqrt(Math.max(0, squares / n - (sum / n) ** 2));
}

/** The pixels of a 2-D canvas on the page, as a readback view put them. */
const canvasPixels = (page: Page, selector: string) =>
  page.evaluate((selector) => {
    const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
    return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
  }, selector);

const state = (page: Page) =>
  page.evaluate(() => ({
    state: document.body.dataset.state,
    iteration: Number(document.body.dataset.iteration ?? 0),
    error: document.querySelector('#error')?.hasAttribute('hidden')
      ? ''
      : document.querySelector('#error')?.textContent,
  }));

const FLAG_SETS: [string, (args: string[]) => string[], 'webgpu' | 'readback'][] = [
  ["the tests' flags", (args) => args, 'webgpu'],
  [
    '--enable-unsafe-webgpu alone',
    (args) => args.filter((a) => !a.startsWith('--enable-features') && !a.startsWith('--use-angle')),
    'readback',
  ],
];

test('the pages train on and draw their views with and without Vulkan compositing', async (t) => {
  const dir = await buildPages();
  const site = await serveSite(dir, packagedMnistDir());
  try {
    for (const [name, flags, expected] of FLAG_SETS) {
      const options = browserLaunchOptions();
      const browser = await chromium.launch({ ...options, args: flags(options.args!) });
      try {
        const page = await browser.newPage();
        page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
        await page.goto(
          `${site.url}?preset=small-mnist&config=${encodeURIComponent(JSON.stringify(SMALL_MODEL))}&autostart=1`,
        );
        // Several windows: a window is drawn at its end, so a drawing that loses the device stops here.
        await page.waitForFunction(
          () => {
            const { ganPage } = window as unknown as { ganPage?: { metrics: unknown[] } };
            return (
              (ganPage?.metrics.length ?? 0) >= 4 ||
              document.body.dataset.state === 'lost' ||
              document.body.dataset.state === 'error' ||
              !document.querySelector('#error')!.hasAttribute('hidden')
            );
          },
          null,
          { timeout: 180_000 },
        );
        const first = await state(page);
        assert.equal(first.error, '', `${name}: ${first.error}`);
        assert.equal(first.state, 'running', `${name}: ${JSON.stringify(first)}`);
        await page.waitForFunction((n) => Number(document.body.dataset.iteration) >= n, first.iteration + 3, {
          timeout: 120_000,
        });
        assert.equal(
          await page.evaluate(() => (window as unknown as { ganPage: { present: string } }).ganPage.present),
          expected,
          name,
        );
        await page.click('#start');
        await page.waitForFunction(() => document.body.dataset.state === 'paused');
        for (const view of ['samples', 'fixed', 'strip']) {
          const shot = await page.evaluate(
            (view) =>
              (window as unknown as { ganPage: { snapshot(v: string): Promise<Pixels> } }).ganPage.snapshot(view),
            view,
          );
          assert.ok(spread(shot) > 10, `${name}: the ${view} snapshot is blank`);
        }
        if (expected === 'readback') {
          // snapshot() drew a frame first; its readback is shown once the queue answers.
          await page.waitForTimeout(500);
          for (const canvas of ['#samples', '#fixed', '#strip'])
            assert.ok(
              spread({ pixels: await canvasPixels(page, canvas) }) > 10,
              `${name}: the ${canvas} canvas is blank`,
            );
        }
        const last = await state(page);
        assert.equal(last.error, '', `${name}: ${last.error}`);
        t.diagnostic(`${name}: the MNIST page drew through ${expected} and trained to iteration ${last.iteration}`);

        if (expected === 'readback') {
          // The lab's plane (its own test covers the tests' flags).
          await page.goto(new URL('lab.html?distribution=toy-2d-ring&autostart=1', site.url).href);
          await page.waitForFunction(
            () =>
              Number(document.body.dataset.iteration ?? 0) >= 15 ||
              !document.querySelector('#error')!.hasAttribute('hidden'),
            null,
            { timeout: 180_000 },
          );
          const lab = await state(page);
          assert.equal(lab.error, '', `${name}, lab: ${lab.error}`);
          const plane = await page.evaluate(() =>
            (window as unknown as { ganLab: { snapshot(): Promise<Pixels> } }).ganLab.snapshot(),
          );
          assert.ok(spread(plane) > 10, `${name}: the lab's plane snapshot is blank`);
          assert.ok(
            spread({ pixels: await canvasPixels(page, '#plane') }) > 10,
            `${name}: the lab's #plane canvas is blank`,
          );
          t.diagnostic(`${name}: the lab trained to iteration ${lab.iteration}`);
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
