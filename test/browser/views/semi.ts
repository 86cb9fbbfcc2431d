// The training page's view of D's features with few labels, in headless Chromium on SwiftShader: on
// the pretrained small-mnist model, *Measure D's features* trains the softmax on D's last hidden layer
// and on the pixels for 100 labelled digits and shows both test accuracies, each far above chance (the
// page and the command line share semiSupervised); counts that cannot be balanced are refused in one
// line, in the words of the command line's refusal.
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import assert from 'node:assert/strict';

interface SemiApi {
  ganPage: { modelViews: { semi: { results: { labels: number; accuracy: number; pixelsAccuracy: number }[] } } };
}

export async function checkSemiSupervisedView(t: TestContext, page: Page): Promise<void> {
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  assert.ok(await page.isEnabled('#semi-run'));
  phase('view ready');

  await page.fill('#semi-counts', '105');
  await page.click('#semi-run');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(
    (await page.textContent('#error')) ?? '',
    /^labelled images: 105 labelled images cannot be 10 classes of equal size; give multiples of 10/,
  );

  await page.fill('#semi-counts', '100');
  await page.fill('#semi-images', '1000');
  await page.selectOption('#semi-longest', '400');
  await page.click('#semi-run');
  await page.waitForFunction(() => document.body.dataset.semi === 'done', null, { timeout: 300_000 });
  assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
  phase('measured');
  const results = await page.evaluate(() => (window as unknown as SemiApi).ganPage.modelViews.semi.results);
  assert.equal(results.length, 1);
  const [{ labels, accuracy, pixelsAccuracy }] = results;
  t.diagnostic(`100 labels, 1,000 test digits: D's features ${accuracy}, pixels ${pixelsAccuracy}`);
  assert.equal(labels, 100);
  // Chance is 0.1; the command line measures 0.60 and 0.78 on all 10,000 test digits.
  assert.ok(
    accuracy > 0.4 && pixelsAccuracy > 0.6,
    `accuracy ${accuracy} on D's features, ${pixelsAccuracy} on the pixels`,
  );
  const cells = await page.locator('#semi-table td').allTextContents();
  assert.deepEqual(cells.slice(0, 3), [
    '100',
    `${(accuracy * 100).toFixed(1)}%`,
    `${(pixelsAccuracy * 100).toFixed(1)}%`,
  ]);
  assert.match(
    (await page.textContent('#semi-status')) ?? '',
    /1000 validation and 1000 test images, up to 400 iterations tried/,
  );
}
