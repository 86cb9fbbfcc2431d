// What the tests of the page's model views share: the training page opened on a narrow first model
// (ready soon) and the pretrained small-mnist model loaded over it, paused.
import type { Browser, Page } from 'playwright-core';

const SMALL = {
  generator: {
    layers: [
      { units: 64, pieces: 1, activation: 'relu' },
      { units: 784, pieces: 1, activation: 'sigmoid' },
    ],
  },
  batch: 32,
};

export async function openPretrainedPage(
  browser: Browser,
  url: string,
  height = 1400,
  beforePretrained?: (page: Page) => Promise<void>,
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height } });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${url}?preset=small-mnist&config=${encodeURIComponent(JSON.stringify(SMALL))}`);
  await page.waitForFunction(() => document.body.dataset.state === 'paused', null, { timeout: 120_000 });
  await beforePretrained?.(page);
  await page.selectOption('#pretrained-model', 'small-mnist');
  await page.click('#pretrained');
  await page.waitForFunction(
    () => document.body.dataset.iteration !== '0' && document.body.dataset.state === 'paused',
    null,
    { timeout: 120_000 },
  );
  return page;
}
