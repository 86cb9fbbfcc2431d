// The training page's completion view in headless Chromium on SwiftShader, on the pretrained
// small-mnist model (z starts from its E of the masked image): a stroke of the mouse
// erases pixels of a test digit, *hide the bottom half* hides the rest of its lower half, and each
// time the fit is shown as it goes and the completed image keeps the known pixels exactly and fills
// the erased ones from G(z). Read through the page's snapshot(), as the other page tests do.
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import assert from 'node:assert/strict';

interface InpaintApi {
  ganPage: {
    modelViews: {
      inpaint: { snapshot(): Promise<{ x: number[]; mask: number[]; completed: number[]; progressShown: number }> };
    };
  };
}

export async function checkInpaintView(t: TestContext, page: Page): Promise<void> {
  const begun = performance.now();
  const phase = (what: string) => t.diagnostic(`${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}`);
  await page.click('#inpaint-next');
  phase('view ready');

  const snapshot = () => page.evaluate(() => (window as unknown as InpaintApi).ganPage.modelViews.inpaint.snapshot());
  const check = async (what: string) => {
    await page.waitForFunction(() => document.body.dataset.inpaint === 'done', null, { timeout: 120_000 });
    assert.ok(await page.isHidden('#error'), (await page.textContent('#error')) ?? '');
    const { x, mask, completed } = await snapshot();
    const erased = mask.flatMap((m, i) => (m === 0 ? [i] : []));
    assert.ok(erased.length > 0, `${what}: no pixel erased`);
    mask.forEach((m, i) => m === 1 && assert.equal(completed[i], x[i], `${what}: known pixel ${i} changed`));
    const filled = erased.filter((i) => completed[i] > 0.01).length;
    assert.ok(
      completed.every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
      `${what}: the completion is an image in [0, 1]`,
    );
    assert.ok(
      filled > 0 && erased.some((i) => completed[i] !== x[i]),
      `${what}: the erased pixels were not filled in by G(z)`,
    );
    t.diagnostic(`${what}: ${erased.length} pixels erased, ${filled} filled with ink`);
    return erased.length;
  };

  // A stroke across the digit's middle, then the bottom half on top of it.
  const box = (await page.locator('#inpaint-input').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.45);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.45, { steps: 12 });
  await page.mouse.up();
  const stroke = await check('a mouse stroke');
  phase('stroke completed');
  await page.click('#inpaint-bottom');
  const half = await check('the bottom half hidden');
  assert.ok(half >= 392 && half > stroke, `${half} pixels hidden with the bottom half`);
  // 200 steps, the fit shown at steps 50, 100 and 150 of each completion before its end.
  assert.equal((await snapshot()).progressShown, 6);
  phase('bottom half completed');
}
