// The training page's views of a trained model (the paper's future work), in headless Chromium on
// SwiftShader, on one page: a fresh model has no encoder, then the pretrained small-mnist model is
// opened once and each view is checked on it in turn (test/browser/views/: the completion, D's
// features with few labels, and last the inference view, which trains an encoder of its own).
import test from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser } from '../../src/cli/browser';
import { packagedMnistDir } from '../../src/data/mnist-files-node';
import { openPretrainedPage } from './pretrained-page';
import { checkInferenceView } from './views/inference';
import { checkInpaintView } from './views/inpaint';
import { checkSemiSupervisedView } from './views/semi';

test("the model views on the pretrained small-mnist model: completion, D's features, inference", async (t) => {
  await withBrowser(packagedMnistDir(), async (browser, site) => {
    const page = await openPretrainedPage(browser, site.url, 1800, async (fresh) => {
      assert.equal(await fresh.evaluate(() => document.body.dataset.encoder), 'no');
      assert.match((await fresh.textContent('#encoder-status')) ?? '', /no encoder/);
    });
    await t.test('the page completes a test digit erased with the mouse and with its bottom half hidden', (t) =>
      checkInpaintView(t, page),
    );
    await t.test("the page measures a softmax on D's features beside one on the pixels, with 100 labels", (t) =>
      checkSemiSupervisedView(t, page),
    );
    await t.test(
      'the page shows G(E(x)) with the shipped E, trains an encoder of its own, draws the interpolation through E and saves E',
      (t) => checkInferenceView(t, page),
    );
  });
});
