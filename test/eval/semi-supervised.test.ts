// D's features with few labels, on small cases: the features are D's forward pass without dropout
// (against the CPU twin), the balanced draw is balanced, nested and seeded, and the softmax learns
// separable classes from a few labels, on pixels and through a small random D (by outcome, against
// chance).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { ImageDataset, ImageSplit } from '../../src/data/image-dataset';
import { discriminatorFeatures } from '../../src/eval/discriminator-features';
import { balancedDraw, semiSupervised, softmaxAccuracy, trainSoftmax } from '../../src/eval/semi-supervised';
import { parameterLayout } from '../../src/nn/layout';
import { mlpForward } from '../../src/reference/mlp';
import type { NetworkSpec } from '../../src/spec/network';
import { STREAM_DROPOUT } from '../../src/spec/rng';
import { discriminatorFeatureSpec } from '../../src/spec/semi-supervised';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';

// D's shape in small: an input map and dropout on both hidden layers, maxout, a sigmoid output.
const dropout = { keep: 0.8, scale: 1.25 };
const smallD: NetworkSpec = {
  name: 'discriminator',
  inputFeatures: 19,
  layers: [
    { units: 7, activation: 'maxout', pieces: 3, inputMap: { scale: 2, shift: -1 }, dropout },
    { units: 5, activation: 'maxout', pieces: 2, dropout },
    { units: 1, activation: 'sigmoid', pieces: 1, dropout: { keep: 0.5, scale: 2 } },
  ],
};

test("the features are D's last hidden layer without dropout, as the CPU twin computes it, for a count that is not a multiple of the batch", async () => {
  const { rt } = await gpu();
  const random = seededRandom(3);
  const params = randomArray(random, parameterLayout(smallD).totalFloats);
  const count = 23;
  const x = randomArray(random, count * smallD.inputFeatures, 0, 1);
  const extractor = await discriminatorFeatures(rt, smallD, params, 8);
  try {
    assert.equal(extractor.features, 5);
    const features = await extractor.run({ values: x, count, features: smallD.inputFeatures });
    const trunk = discriminatorFeatureSpec(smallD);
    assert.ok(
      trunk.layers.every((layer) => !layer.dropout) && trunk.layers[0].inputMap,
      'dropout removed, the input map kept',
    );
    // The trunk's tensors are D's first ones: the same flat parameters, cut short.
    const expected = mlpForward(trunk, params.slice(0, parameterLayout(trunk).totalFloats), x, count, {
      seed: 0,
      step: 0,
      sub: 0,
      streamBase: STREAM_DROPOUT,
    }).output;
    assertClose('features', features, expected, { atol: 1e-5, rtol: 1e-5 });
  } finally {
    extractor.destroy();
  }
  await assert.rejects(
    discriminatorFeatures(
      rt,
      { ...smallD, classes: 3 },
      new Float32Array(parameterLayout({ ...smallD, classes: 3 }).totalFloats),
    ),
    /conditional/,
  );
});

test('the balanced draw takes count / classes of each class, keyed by the seed, a smaller count inside a larger one', () => {
  const random = seededRandom(5);
  const labels = Uint8Array.from({ length: 500 }, () => Math.floor(random() * 4));
  const [small, large] = [balancedDraw(labels, 4, 8, 1), balancedDraw(labels, 4, 40, 1)];
  for (const rows of [small, large]) {
    const perClass = rows.length / 4;
    for (let c = 0; c < 4; c++)
      assert.ok(
        rows.subarray(c * perClass, (c + 1) * perClass).every((row) => labels[row] === c),
        `class ${c}`,
      );
    assert.equal(new Set(rows).size, rows.length, 'no image twice');
  }
  for (let c = 0; c < 4; c++)
    assert.deepEqual([...small.subarray(2 * c, 2 * c + 2)], [...large.subarray(10 * c, 10 * c + 2)], 'nested');
  assert.deepEqual(balancedDraw(labels, 4, 40, 1), large, 'the same seed draws the same images');
  assert.notDeepEqual(balancedDraw(labels, 4, 40, 2), large, 'another seed draws others');
  assert.throws(() => balancedDraw(labels, 4, 10, 1), /not 4 classes of equal size/);
  assert.throws(() => balancedDraw(labels, 4, 4000, 1), /1000 images of class 0 asked for/);
});

/** Images of 1 x 4 x 4 bytes, three classes: a bright row 0, 1 or 2 on a noisy ground. */
function stripes(random: () => number, count: number): ImageSplit {
  const labels = Uint8Array.from({ length: count }, () => Math.floor(random() * 3));
  const pixels = new Uint8Array(count * 16);
  for (let i = 0; i < count; i++)
    for (let p = 0; p < 16; p++)
      pixels[i * 16 + p] = Math.floor(p >> 2 === labels[i] ? 150 + 100 * random() : 120 * random());
  return { pixels, labels, count };
}

test('the softmax learns three separable classes from a few labels, on the pixels and through a small random D', async (t) => {
  const { rt } = await gpu();
  const random = seededRandom(7);
  const images: ImageDataset = {
    kind: 'test',
    source: 'stripes',
    channels: 1,
    height: 4,
    width: 4,
    train: stripes(random, 300),
    valid: stripes(random, 200),
    test: stripes(random, 300),
    classes: 3,
  };
  const d: NetworkSpec = {
    name: 'discriminator',
    inputFeatures: 16,
    layers: [
      { units: 24, activation: 'maxout', pieces: 2, inputMap: { scale: 2, shift: -1 }, dropout },
      { units: 1, activation: 'sigmoid', pieces: 1 },
    ],
  };
  const params = randomArray(random, parameterLayout(d).totalFloats, -0.5, 0.5);
  const config = { batch: 30, lr: 0.01, checkpoints: [20, 100, 300] };
  const [result] = await semiSupervised(rt, { spec: d, params }, images, [30], { seed: 1, config });
  t.diagnostic(
    `30 labels, test accuracy: D's features ${result.accuracy}, pixels ${result.pixelsAccuracy} (chance 0.33); chosen at ${result.iterations} and ${result.pixelsIterations} iterations`,
  );
  // Measured: 1 on both.
  assert.ok(result.accuracy > 0.9 && result.pixelsAccuracy > 0.9, JSON.stringify(result));
  assert.ok(config.checkpoints.includes(result.iterations) && config.checkpoints.includes(result.pixelsIterations));

  // Untrained (zeros) every class ties, the first wins: chance on balanced classes is what it gets.
  const rows = {
    values: Float32Array.from(images.test.pixels, (v) => v / 255),
    labels: images.test.labels!,
    count: 300,
    features: 16,
  };
  const zeros = softmaxAccuracy(
    new Float32Array(
      parameterLayout({ name: 's', inputFeatures: 16, layers: [{ units: 3, activation: 'identity', pieces: 1 }] })
        .totalFloats,
    ),
    rows,
    3,
  );
  assert.equal(zeros, images.test.labels!.filter((c) => c === 0).length / 300);
  const trained = await trainSoftmax(rt, rows, rows, 3, { ...config, checkpoints: [100] });
  assert.ok(
    softmaxAccuracy(trained.params, rows, 3) === trained.validAccuracy && trained.validAccuracy > 0.9,
    `${trained.validAccuracy}`,
  );
});
