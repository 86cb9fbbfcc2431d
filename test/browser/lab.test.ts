// The lab (examples/lab.html) in headless Chromium on SwiftShader: the ring of gaussians trains, and
// the Jensen-Shannon divergence between data and samples, measured at every window, falls (from
// about 0.66 at iteration 5 to about 0.55 by iteration 40 with the preset's seed); the plane shows
// D's output with real (blue) and generated (orange) points on it; the 1-D view of the paper's
// Figure 1 trains too. The page screenshot and the plane are saved under test-artifacts/.
//
// SwiftShader does not composite WebGPU canvases into screenshots: the plane is checked through the
// lab's snapshot(), which draws it with the same render pipelines into an offscreen texture.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { withBrowser } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';

const artifacts = join(new URL('../..', import.meta.url).pathname, 'test-artifacts');
const untilIteration = (page: Page, n: number) =>
  page.waitForFunction((n) => Number(document.body.dataset.iteration ?? 0) >= n, n, { timeout: 180_000 });
const divergences = (page: Page) =>
  page.evaluate(() => (window as unknown as { ganLab: { divergences: [number, number][] } }).ganLab.divergences);

test('the lab trains the ring and its divergence falls; the 1-D view trains', async (t) => {
  mkdirSync(artifacts, { recursive: true });
  await withBrowser(packagedMnistDir(), async (browser, site) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(new URL('lab.html?distribution=toy-2d-ring&autostart=1', site.url).href);
    await untilIteration(page, 40);
    const js = await divergences(page);
    t.diagnostic(`js: ${js.map(([i, v]) => `${i}: ${v.toFixed(3)}`).join(', ')}; ${await page.textContent('#status')}`);
    assert.ok(js.length >= 3, `${js.length} divergences measured`);
    assert.ok(js[0][1] > 0.5, `the divergence starts high (${js[0][1]})`);
    assert.ok(js[js.length - 1][1] < js[0][1] - 0.05, `the divergence falls: ${JSON.stringify(js)}`);
    assert.equal(await page.isHidden('#error'), true, (await page.textContent('#error')) ?? '');
    await page.screenshot({ path: join(artifacts, 'lab-ring.png'), fullPage: true });

    const plane = await page.evaluate(() =>
      (
        window as unknown as { ganLab: { snapshot(): Promise<{ width: number; height: number; pixels: number[] }> } }
      ).ganLab.snapshot(),
    );
    const png = new PNG({ width: plane.width, height: plane.height });
    png.data.set(plane.pixels);
    writeFileSync(join(artifacts, 'lab-plane.png'), PNG.sync.write(png));
    let [blue, orange] = [0, 0];
    for (let i = 0; i < plane.pixels.length; i += 4) {
      const [r, g, b] = plane.pixels.slice(i, i + 3);
      // The dots' colours over any heatmap shade: blue (.12, .43, .78), orange (.86, .35, .12).
      if (b > r + 60 && b > g) blue++;
      if (r > b + 100 && r > g + 40) orange++;
    }
    assert.deepEqual([plane.width, plane.height], [480, 480]);
    assert.ok(blue > 500 && orange > 500, `real points drawn: ${blue} blue pixels; generated: ${orange} orange pixels`);

    await page.click('#start');
    await page.selectOption('#distribution', 'toy-1d');
    await page.waitForFunction(() => document.body.dataset.iteration === '0');
    for (let i = 0; i < 3; i++) await page.click('#step');
    await untilIteration(page, 3);
    await page.waitForSelector('#line canvas');
    assert.equal(await page.isHidden('#error'), true, (await page.textContent('#error')) ?? '');
    await page.screenshot({ path: join(artifacts, 'lab-1d.png'), fullPage: true });
  });
});
