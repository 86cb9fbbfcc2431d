// The kernel check page (examples/index.html), built by Vite and opened in headless Chromium with
// WebGPU: the browser build loads the shaders, gets an adapter and matches the CPU reference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { withPage } from './browser';

test('the kernel check page runs the dense kernels in Chromium and matches the reference', async () => {
  await withPage('/kernel-check.html', async (page) => {
    await page.waitForSelector('body[data-done]', { timeout: 240_000 });
    const verdict = await page.getAttribute('body', 'data-done');
    const status = await page.textContent('#status');
    const rows = await page.$$eval('#results tbody tr', (trs) =>
      trs.map((tr) => (tr as HTMLTableRowElement).innerText.replace(/\s+/g, ' ')),
    );
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/kernel-check.png', fullPage: true });
    assert.equal(verdict, 'pass', `page says '${status}': ${rows.join(' | ')}`);
    assert.equal(rows.length, 4);
    assert.match(status ?? '', /^Adapter: /);
  });
});
