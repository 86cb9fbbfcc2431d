// The classifier behind --score, trained by our kernels (gather, dense, softmax cross-entropy, Adam):
// it learns (test accuracy well above chance after a few hundred steps), it is cached under a key of
// its architecture, schedule and seed and read back unchanged, and the scores it gives behave: the
// Frechet distance is near zero for real test images against real training images and large for
// uniform noise; class coverage is near uniform for real digits and one-hot for copies of one image.
// A small classifier keeps the test to seconds; the command's default is larger (src/eval/classifier.ts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../../src/data/mnist-files-node';
import { ClassifierFeatures, type ClassifierConfig } from '../../src/eval/classifier';
import { loadOrTrainClassifier } from '../../src/cli/classifier-cache';
import { mnistAsDataset } from '../../src/data/image-dataset';
import { scoreAgainst, summarise } from '../../src/eval/score';
import { gpu, randomArray, seededRandom } from '../helpers';

const SMALL: ClassifierConfig = { hidden: [64], iterations: 150, batch: 100, lr: 1e-3, initRange: 0.05, seed: 5 };

test('a classifier trained by our kernels learns MNIST, is cached, and scores real digits near 0 and noise far away', async () => {
  const { rt } = await gpu();
  const mnist = loadMnist();
  const cache = mkdtempSync(join(tmpdir(), 'gan-classifier-'));
  const trained = await loadOrTrainClassifier(rt, mnistAsDataset(mnist), SMALL, cache);
  assert.equal(trained.cached, false);
  assert.ok(trained.testAccuracy > 0.85, `test accuracy ${trained.testAccuracy} after ${SMALL.iterations} steps`);
  const again = await loadOrTrainClassifier(rt, mnistAsDataset(mnist), SMALL, cache);
  assert.equal(again.cached, true);
  assert.equal(again.path, trained.path);
  // The name holds the data (kind, shape, classes, a digest of the training split) and the schedule.
  assert.match(
    again.path,
    /classifier-mnist-1x28x28-c10-[0-9a-f]{12}-h64-it150-b100-lr0\.001-init0\.05-seed5\.safetensors$/,
  );
  assert.deepEqual(again.params, trained.params);
  assert.equal(again.testAccuracy, trained.testAccuracy);

  const features = 784;
  const n = 1000;
  const images = (set: typeof mnist.train, first: number, count = n) => ({
    values: set.pixels.subarray(first * features, (first + count) * features),
    count,
    features,
    scale: 1 / 255,
  });
  const extractor = await ClassifierFeatures.create(rt, SMALL, again.params, features);
  const test = await summarise(extractor, images(mnist.test, 0));
  const real = scoreAgainst(await summarise(extractor, images(mnist.train, 0)), test);
  const noise = scoreAgainst(
    await summarise(extractor, { values: randomArray(seededRandom(1), n * features, 0, 1), count: n, features }),
    test,
  );
  assert.ok(noise.fd > 20 * real.fd, `Frechet distance: real ${real.fd}, noise ${noise.fd}`);
  assert.ok(real.classEntropy > 0.97 * Math.log(10), `real digits cover the classes: entropy ${real.classEntropy}`);

  const copies = new Uint8Array(200 * features);
  for (let i = 0; i < 200; i++) copies.set(mnist.test.pixels.subarray(0, features), i * features);
  const one = scoreAgainst(await summarise(extractor, { values: copies, count: 200, features, scale: 1 / 255 }), test);
  assert.equal(one.classEntropy, 0);
  assert.equal(Math.max(...one.classDistribution), 1);
  extractor.destroy();
});
