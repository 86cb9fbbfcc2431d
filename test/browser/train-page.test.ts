// The live MNIST page (examples/index.html) in headless Chromium on SwiftShader, with a small model
// so a few dozen iterations take seconds: it gets an adapter and trains, the losses move, the render
// pipeline draws digits that are not blank, a corrupt checkpoint is refused by name while training
// goes on, a checkpoint written by `gan train` opens in the page and gives the same samples for
// the same z, and G downloads as the ONNX file the command line writes. Views are saved under test-artifacts/.
//
// Headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots, so the views
// are checked through the page's snapshot(), which draws them with the same render pipeline into an
// offscreen texture; the page screenshot shows the controls and the charts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type Page } from 'playwright-core';
import { browserLaunchOptions, withBrowser } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';
import { checkpointToOnnx, decodeCheckpoint, networkSpecs } from '../../src/index';

const root = new URL('../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');

/** The paper's model much narrower and faster to move: the same kernels, quick on a software adapter. */
const SMALL_MODEL = {
  preset: 'small-mnist',
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

interface PageApi {
  ganPage: {
    metrics: { iter: number; d_loss: number; g_loss: number; its_per_s: number }[];
    snapshot(view: string): Promise<{ width: number; height: number; pixels: number[] }>;
    readFixedSamples(): Promise<number[]>;
  };
}

const iteration = (page: Page) => page.evaluate(() => Number(document.body.dataset.iteration ?? 0));
const untilIteration = (page: Page, n: number) =>
  page.waitForFunction((n) => Number(document.body.dataset.iteration ?? 0) >= n, n, { timeout: 180_000 });

async function snapshotPng(
  page: Page,
  view: string,
  name: string,
): Promise<{ mean: number; std: number; bright: number }> {
  const { width, height, pixels } = await page.evaluate(
    (view) => (window as unknown as PageApi).ganPage.snapshot(view),
    view,
  );
  const png = new PNG({ width, height });
  png.data.set(pixels);
  writeFileSync(join(artifacts, name), PNG.sync.write(png));
  const grey = pixels.filter((_, i) => i % 4 === 0);
  const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
  return {
    mean,
    std: Math.sqrt(grey.reduce((a, b) => a + (b - mean) ** 2, 0) / grey.length),
    bright: grey.filter((g) => g > 100).length / grey.length,
  };
}

/** The largest difference in grey levels between G's fixed-noise samples and a samples PNG (a 10 x 10 grid at zoom 2). */
function greyDifference(samples: number[], pngFile: string): number {
  const png = PNG.sync.read(readFileSync(pngFile));
  let worst = 0;
  for (let i = 0; i < 100; i++) {
    for (let p = 0; p < 784; p++) {
      const [x, y] = [(i % 10) * 57 + 1 + (p % 28) * 2, Math.floor(i / 10) * 57 + 1 + Math.floor(p / 28) * 2];
      const grey = Math.round(255 * Math.min(1, Math.max(0, samples[i * 784 + p])));
      worst = Math.max(worst, Math.abs(grey - png.data[(y * png.width + x) * 4]));
    }
  }
  return worst;
}

test("the MNIST page trains, draws, refuses a corrupt checkpoint, opens the command line's and resumes after a device loss", async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  const runDir = mkdtempSync(join(tmpdir(), 'gan-page-cli-'));
  writeFileSync(join(runDir, 'small.json'), JSON.stringify(SMALL_MODEL));
  const cli = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/gan.ts',
      'train',
      '--config',
      join(runDir, 'small.json'),
      '--iters',
      '6',
      '--log-every',
      '3',
      '--sample-every',
      '6',
      '--seed',
      '5',
      '--out',
      runDir,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(cli.status, 0, cli.stderr);
  phase('command-line run done');

  await withBrowser(packagedMnistDir(), async (browser, site) => {
    phase('pages built, browser started');
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    const { preset: _, ...overrides } = SMALL_MODEL;
    const started = performance.now();
    await page.goto(
      `${site.url}?preset=small-mnist&config=${encodeURIComponent(JSON.stringify(overrides))}&autostart=1`,
    );
    await untilIteration(page, 24);
    phase('24 iterations trained');
    const status = await page.textContent('#status');
    assert.match(status ?? '', /iteration \d+ .* running/, status ?? '');
    assert.equal(await page.isHidden('#no-webgpu'), true);

    const metrics = await page.evaluate(() => (window as unknown as PageApi).ganPage.metrics);
    assert.ok(metrics.length >= 2, `${metrics.length} metrics records`);
    const first = metrics[0];
    const last = metrics[metrics.length - 1];
    assert.ok(Number.isFinite(last.d_loss) && Number.isFinite(last.g_loss), 'finite losses');
    assert.ok(
      Math.abs(last.d_loss - first.d_loss) + Math.abs(last.g_loss - first.g_loss) > 1e-3,
      `losses move: ${JSON.stringify(first)} -> ${JSON.stringify(last)}`,
    );
    t.diagnostic(
      `page: ${last.iter} iterations in ${((performance.now() - started) / 1000).toFixed(1)} s with loading; ${last.its_per_s.toFixed(2)} it/s on ${status}`,
    );

    const before = await iteration(page);
    await page.setInputFiles('#load', {
      name: 'corrupt.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('this is not a checkpoint'),
    });
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error')) ?? '', /^corrupt\.safetensors: /);
    await untilIteration(page, before + 3);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'running', 'training went on');

    phase('corrupt checkpoint refused, training went on');
    await page.click('#start');
    await page.waitForFunction(() => document.body.dataset.state === 'paused');
    for (const [view, name] of [
      ['samples', 'page-samples.png'],
      ['fixed', 'page-fixed-noise.png'],
      ['strip', 'page-interpolation.png'],
    ]) {
      // Digits are light strokes on black between grey gaps: a blank grid has no bright pixels.
      const { mean, std, bright } = await snapshotPng(page, view, name);
      assert.ok(
        std > 10 && bright > 0.01,
        `${view}: grey mean ${mean.toFixed(1)}, std ${std.toFixed(1)}, ${(100 * bright).toFixed(1)}% bright: the grid is blank`,
      );
    }
    await page.screenshot({ path: join(artifacts, 'page.png'), fullPage: true });
    phase('views checked');

    await page.setInputFiles('#load', join(runDir, 'checkpoint.safetensors'));
    await page.waitForFunction(
      () => document.body.dataset.iteration === '6' && document.querySelector('#error')!.hasAttribute('hidden'),
      null,
      { timeout: 60_000 },
    );
    phase('checkpoint opened');
    const samples = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    // samples-6.png: G on the same fixed z after the same 6 iterations.
    const worst = greyDifference(samples, join(runDir, 'samples-6.png'));
    // Two adapters (SwiftShader here, lavapipe for the command line) round differently: a grey level or two.
    assert.ok(worst <= 2, `the page's fixed-noise samples differ from the command line's by ${worst} grey levels`);
    await snapshotPng(page, 'fixed', 'page-cli-checkpoint.png');
    // Both show the moving average of G's weights (the preset keeps one); the toggle shows G itself.
    const readFixed = () => page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    assert.equal(await page.isChecked('#raw-generator'), false);
    await page.click('#raw-generator');
    const raw = await readFixed();
    assert.notDeepEqual(raw, samples, 'G itself draws other samples than its average');
    await page.click('#raw-generator');
    assert.deepEqual(await readFixed(), samples, 'and back to the average');
    phase('raw and averaged generator toggled');

    // The device is lost: the next step fails, the page offers the model it kept, and resuming on a
    // new device continues from it, the same samples for the same z.
    await page.evaluate(() =>
      (window as unknown as { ganPage: { context: { device: GPUDevice } } }).ganPage.context.device.destroy(),
    );
    await page.click('#step');
    await page.waitForFunction(() => document.body.dataset.state === 'lost', null, { timeout: 60_000 });
    assert.match(
      (await page.textContent('#error')) ?? '',
      /GPU device was lost.*The model of iteration 6 is kept in this page/s,
    );
    assert.equal(await page.textContent('#resume'), 'Resume from iteration 6');
    await page.click('#resume');
    await page.waitForFunction(
      () => document.body.dataset.state === 'paused' && document.querySelector('#error')!.hasAttribute('hidden'),
      null,
      { timeout: 60_000 },
    );
    phase('resumed after a device loss');
    assert.equal(await iteration(page), 6);
    const resumed = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    assert.deepEqual(resumed, samples, 'the kept model on the new device gives the same samples');
    await page.click('#step');
    await untilIteration(page, 7);

    // Each pretrained model: its fixed-noise grid is the command line's samples PNG of the same run.
    // paper-mnist (G alone) first, so that small-mnist is open for the ONNX download below.
    let pretrainedIteration = '';
    for (const name of ['paper-mnist', 'small-mnist']) {
      pretrainedIteration = String(
        JSON.parse(readFileSync(join(root, 'pretrained', `${name}-eval.json`), 'utf8')).iteration,
      );
      await page.selectOption('#pretrained-model', name);
      await page.click('#pretrained');
      await page.waitForFunction(
        ([n, preset]) =>
          document.body.dataset.iteration === n &&
          document.body.dataset.state === 'paused' &&
          document.body.dataset.preset === preset,
        [pretrainedIteration, name],
        { timeout: 120_000 },
      );
      phase(`pretrained model ${name} opened`);
      assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
      const pretrained = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
      const difference = greyDifference(pretrained, join(root, 'pretrained', `${name}-samples.png`));
      assert.ok(
        difference <= 2,
        `${name}'s fixed-noise grid differs from pretrained/${name}-samples.png by ${difference} grey levels`,
      );
      for (const [view, file] of [
        ['fixed', `page-${name}-fixed-noise.png`],
        ['strip', `page-${name}-interpolation.png`],
      ]) {
        const { mean, std, bright } = await snapshotPng(page, view, file);
        assert.ok(
          std > 10 && bright > 0.01,
          `${name} ${view}: grey mean ${mean.toFixed(1)}, std ${std.toFixed(1)}, ${(100 * bright).toFixed(1)}% bright: the grid is blank`,
        );
      }
    }

    // Download G as ONNX: the same bytes `gan export --onnx` writes for the same model (test/io/onnx.test.ts runs those in onnxruntime).
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#onnx')]);
    assert.equal(download.suggestedFilename(), `small-mnist-${pretrainedIteration}.generator.onnx`);
    const downloaded = readFileSync(await download.path());
    const pretrainedFile = join(root, 'pretrained', 'small-mnist.safetensors');
    const expected = checkpointToOnnx(decodeCheckpoint(readFileSync(pretrainedFile), pretrainedFile, networkSpecs));
    assert.ok(
      Buffer.from(expected).equals(downloaded),
      `the page's ONNX file (${downloaded.length} bytes) differs from the command line's (${expected.length} bytes)`,
    );
    phase('ONNX downloaded');

    // The least-squares game from the loss select: the model is rebuilt with it and trains on.
    const beforeLeastSquares = await iteration(page);
    await page.selectOption('#gloss', 'least-squares');
    await page.waitForFunction(() => document.body.dataset.state === 'paused', null, { timeout: 60_000 });
    await page.click('#step');
    await untilIteration(page, beforeLeastSquares + 1);
    assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
    assert.equal(await page.inputValue('#gloss'), 'least-squares');
    const trained = await page.evaluate(() => (window as unknown as PageApi).ganPage.readFixedSamples());
    assert.ok(trained.every(Number.isFinite), 'the least-squares step leaves finite samples');
    phase('least squares from the loss select');
  });
});

test('without WebGPU the page says what to use instead', async () => {
  await withBrowser(packagedMnistDir(), async (_browser, site) => {
    const options = browserLaunchOptions();
    const browser = await chromium.launch({
      ...options,
      args: options.args!.filter((a) => a !== '--enable-unsafe-webgpu' && !a.startsWith('--enable-features')),
    });
    try {
      const page = await browser.newPage();
      await page.goto(site.url);
      await page.waitForFunction(
        () =>
          document.body.dataset.state === 'no-webgpu' ||
          document.body.dataset.state === 'running' ||
          document.body.dataset.state === 'paused',
        null,
        { timeout: 60_000 },
      );
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'no-webgpu');
      assert.match(
        (await page.textContent('#no-webgpu')) ?? '',
        /Chrome or Edge 113 or newer.*chrome:\/\/flags\/#enable-unsafe-webgpu/s,
      );
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'page-without-webgpu.png') });
    } finally {
      await browser.close();
    }
  });
});
