// Twemoji on the training page's data select, in headless Chromium on SwiftShader: where the server
// has no Twemoji (the optional npm package absent; here its emoji.json answered 404) the option says so
// and cannot be chosen; where it has them, choosing the option reads them in the browser into the same
// labelled colour set as the command line's reader (the same split and classes; pixels within a few
// grey levels, the browser's resampling against sharp's), and a model of them steps and draws.
import test from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';
import { readEmoji } from '../../src/data/emoji-node';

const SMALL = {
  generator: {
    layers: [
      { units: 64, pieces: 1, activation: 'relu' },
      { units: 784, pieces: 1, activation: 'sigmoid' },
    ],
  },
  batch: 32,
};

interface EmojiApi {
  ganPage: {
    trainingImages: {
      channels: number;
      height: number;
      classes: number;
      train: { count: number; pixels: Uint8Array };
      test: { count: number };
    };
    snapshot(view: string): Promise<{ width: number; height: number; pixels: number[] }>;
  };
}

test('the data select offers Twemoji, says when the server has none, and trains on them', async (t) => {
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  const node = await readEmoji('', { size: 32 });
  phase("the command line's reader done");
  await withBrowser(packagedMnistDir(), async (browser, site) => {
    const url = `${site.url}?preset=small-mnist&config=${encodeURIComponent(JSON.stringify(SMALL))}`;
    const missing = await browser.newPage();
    await missing.route('**/data/emoji/emoji.json', (route) => route.fulfill({ status: 404 }));
    await missing.goto(url);
    await missing.waitForFunction(
      () => document.querySelector<HTMLSelectElement>('#data')!.dataset.emoji !== undefined,
      null,
      { timeout: 120_000 },
    );
    assert.equal(
      await missing.evaluate(() => document.querySelector<HTMLOptionElement>('#data option[value=emoji]')!.disabled),
      true,
    );
    assert.match(
      (await missing.textContent('#data option[value=emoji]')) ?? '',
      /^Twemoji: not on this server .*npm install emoji-datasource-twitter/,
    );
    await missing.close();
    phase('a server without Twemoji: the option says so');

    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(url);
    await page.waitForFunction(
      () =>
        document.body.dataset.state === 'paused' &&
        document.querySelector<HTMLSelectElement>('#data')!.dataset.emoji === 'yes',
      null,
      { timeout: 120_000 },
    );
    assert.equal(await page.textContent('#data option[value=emoji]'), 'Twemoji (colour)');
    await page.selectOption('#data', 'emoji');
    await page.waitForFunction(
      () => /on Twemoji .* paused/.test(document.querySelector('#status')!.textContent ?? ''),
      null,
      { timeout: 180_000 },
    );
    assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
    phase('Twemoji read in the page');

    const shown = await page.evaluate(() => {
      const images = (window as unknown as EmojiApi).ganPage.trainingImages;
      return {
        channels: images.channels,
        height: images.height,
        classes: images.classes,
        train: images.train.count,
        test: images.test.count,
        first: Array.from(images.train.pixels.subarray(0, 5 * 3 * 32 * 32)),
      };
    });
    assert.deepEqual(
      [shown.channels, shown.height, shown.classes, shown.train, shown.test],
      [3, 32, node.classes, node.train.count, node.test.count],
    );
    let difference = 0;
    shown.first.forEach((v, i) => (difference += Math.abs(v - node.train.pixels[i]) / shown.first.length));
    t.diagnostic(
      `first 5 training images: ${difference.toFixed(2)} grey levels apart from the command line's on average`,
    );
    assert.ok(
      difference < 6,
      `the page's Twemoji are ${difference.toFixed(2)} grey levels from the command line's on average`,
    );

    await page.click('#step');
    await page.waitForFunction(
      () => document.body.dataset.iteration === '1' && document.body.dataset.state === 'paused',
      null,
      { timeout: 120_000 },
    );
    const { pixels } = await page.evaluate(() => (window as unknown as EmojiApi).ganPage.snapshot('fixed'));
    const colourful = pixels.filter((_, i) => i % 4 === 0 && Math.abs(pixels[i] - pixels[i + 2]) > 8).length;
    assert.ok(colourful > 0, 'the fixed-noise grid of a Twemoji model is drawn in colour');
    phase('a step trained and drawn');
  });
});
