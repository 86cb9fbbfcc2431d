// The training page's inference view in headless Chromium on SwiftShader: on the pretrained
// small-mnist model the shipped E is shown (a fresh model has none), and *Train encoder* trains a
// small E in the tab; with either, a test digit's G(E(x)) is a digit closer to x than G at random z
// is, and the interpolation through E between two test digits is drawn; *Save checkpoint* keeps E, and the file opened again gives the
// same G(E(x)). The views are read through the page (snapshot()), as train-page.test.ts does:
// screenshots here never show WebGPU canvases.
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeCheckpoint, networkSpecs } from '../../../src/index';

const root = new URL('../../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');

interface InferenceApi {
  ganPage: {
    readFixedSamples(): Promise<number[]>;
    modelViews: {
      inference: {
        showTestImage(index: number): Promise<void>;
        interpolate(): Promise<void>;
        snapshot(): Promise<{
          x: number[];
          reconstruction: number[];
          index: number;
          strip?: { width: number; height: number; pixels: number[] };
        }>;
      };
    };
  };
}

const mse = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + (v - b[i]) ** 2, 0) / a.length;

export async function checkInferenceView(t: TestContext, page: Page): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  const inference = () =>
    page.evaluate(() => (window as unknown as InferenceApi).ganPage.modelViews.inference.snapshot());
  const random = await page.evaluate(() => (window as unknown as InferenceApi).ganPage.readFixedSamples());
  const closerThanRandom = (shown: { x: number[]; reconstruction: number[] }, which: string) => {
    assert.equal(shown.reconstruction.length, 784);
    assert.ok(
      shown.reconstruction.every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
      'G(E(x)) is an image in [0, 1]',
    );
    let randomError = 0;
    for (let i = 0; i < 100; i++) randomError += mse(random.slice(i * 784, (i + 1) * 784), shown.x) / 100;
    const error = mse(shown.reconstruction, shown.x);
    t.diagnostic(
      `${which}: G(E(x)) against x: mse ${error.toFixed(4)}; G at the 100 fixed z: ${randomError.toFixed(4)} on average`,
    );
    assert.ok(
      error < randomError,
      `${which}: G(E(x)) (mse ${error.toFixed(4)}) is no closer to x than G at random z (${randomError.toFixed(4)})`,
    );
  };
  assert.equal(await page.evaluate(() => document.body.dataset.encoder), 'yes');
  assert.match((await page.textContent('#encoder-status')) ?? '', /from the checkpoint/);
  await page.evaluate(() => (window as unknown as InferenceApi).ganPage.modelViews.inference.showTestImage(7));
  const shipped = await inference();
  assert.equal(shipped.index, 7);
  closerThanRandom(shipped, 'the shipped E');
  phase('the shipped E: G(E(x)) checked');

  await page.fill('#encoder-iters', '40');
  await page.click('#train-encoder');
  await page.waitForFunction(
    () =>
      document.body.dataset.encoder === 'yes' &&
      /trained here/.test(document.querySelector('#encoder-status')!.textContent ?? ''),
    null,
    { timeout: 180_000 },
  );
  assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
  assert.match((await page.textContent('#encoder-status')) ?? '', /trained here .* 40 steps/);
  phase('encoder trained');

  await page.evaluate(() => (window as unknown as InferenceApi).ganPage.modelViews.inference.showTestImage(7));
  const shown = await inference();
  assert.equal(shown.index, 7);
  assert.ok(
    shown.reconstruction.some((v, i) => v !== shipped.reconstruction[i]),
    'the E trained in the tab replaces the shipped one',
  );
  closerThanRandom(shown, 'the E trained in the tab');
  phase('G(E(x)) checked');

  await page.click('#inference-interpolate');
  await page.waitForSelector('#inference-strip:not([hidden])');
  const { strip } = await inference();
  assert.ok(strip, 'the interpolation through E is drawn');
  const png = new PNG({ width: strip.width, height: strip.height });
  png.data.set(strip.pixels);
  writeFileSync(join(artifacts, 'page-inference-strip.png'), PNG.sync.write(png));
  const grey = strip.pixels.filter((_, i) => i % 4 === 0);
  assert.ok(grey.filter((g) => g > 100).length / grey.length > 0.01, 'the interpolation through E is not blank');
  phase('interpolation through E drawn');

  // Save checkpoint keeps E; the file opened again brings it back, and the same G(E(x)).
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  const bytes = readFileSync(await download.path());
  const saved = decodeCheckpoint(bytes, 'the saved checkpoint', networkSpecs);
  assert.deepEqual(saved.encoder?.hidden, [256], 'the saved checkpoint holds E');
  await page.setInputFiles('#load', {
    name: 'with-encoder.safetensors',
    mimeType: 'application/octet-stream',
    buffer: bytes,
  });
  await page.waitForFunction(
    () => /from the checkpoint/.test(document.querySelector('#encoder-status')!.textContent ?? ''),
    null,
    { timeout: 120_000 },
  );
  await page.evaluate(() => (window as unknown as InferenceApi).ganPage.modelViews.inference.showTestImage(7));
  const reopened = await inference();
  assert.ok(
    reopened.reconstruction.every((v, i) => Math.abs(v - shown.reconstruction[i]) < 1e-5),
    'the reopened E gives the same G(E(x))',
  );
  phase('checkpoint with E saved and opened');
}
