// `gan export --onnx` and `--pytorch`: the exported G and D, run by onnxruntime on the same inputs,
// must give what our own kernels give on the GPU (G through the evaluation's sampler, D through an
// evaluation pass without dropout); the PyTorch tensors, multiplied out as PyTorch would (rows
// [out, in], maxout rows unit * pieces + piece), likewise. The checkpoints are made here with random
// weights on [-r, r] (wide enough that maxout pieces are far apart, so a piece order mixed up shows)
// and a moving average different from G's own weights, so exporting the wrong one shows.
// Tolerance 1e-5 absolute: both sides are float32 sums of at most 784 products of numbers below 1 in
// different orders (a few 1e-7), and sigmoid outputs move less than their inputs.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { gpu, randomArray, seededRandom } from '../helpers';
import { tinyImageConfig, tinyToyConfig } from '../train/fixtures';
import { parameterLayout } from '../../src/nn/layout';
import { GpuNetwork, GpuPass } from '../../src/nn/mlp';
import { GeneratorSampler } from '../../src/eval/sampler';
import { discriminatorSpec, generatorSpec, type TrainConfig } from '../../src/spec/config';
import type { NetworkSpec } from '../../src/spec/network';
import type { TrainingState } from '../../src/spec/state';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint';
import { decodeSafetensors } from '../../src/io/safetensors';
import { checkpointToOnnx, networkToOnnx, ONNX_OPSET } from '../../src/io/onnx';
import { exportModel, discriminatorPath } from '../../src/cli/export';
import { networkSpecs } from '../../src/train/session';
import { ConfigError } from '../../src/train/config';

const root = new URL('../..', import.meta.url).pathname;
const ATOL = 1e-5;
const ROWS = 37;

/** The image preset's structure: ReLU then sigmoid G; maxout D with the 2x - 1 input map and dropout. */
function imageConfig(): TrainConfig {
  const config = tinyImageConfig({ emaDecay: 0.99 });
  config.discriminator.layers = config.discriminator.layers.map((layer, i) =>
    i === 0 ? { ...layer, inputMap: { scale: 2, shift: -1 } } : layer,
  );
  return config;
}

function randomParams(spec: NetworkSpec, seed: number, range: number): Float32Array {
  return randomArray(seededRandom(seed), parameterLayout(spec).totalFloats, -range, range);
}

function randomState(config: TrainConfig, range: number): TrainingState {
  const average = config.emaDecay > 0 ? { average: randomParams(generatorSpec(config), 3, range) } : {};
  return {
    config,
    iteration: 7,
    generator: { params: randomParams(generatorSpec(config), 1, range), optimizer: [], ...average },
    discriminator: { params: randomParams(discriminatorSpec(config), 2, range), optimizer: [] },
    stats: new Float32Array(0),
    weightsOnly: true,
  };
}

function writeCheckpoint(dir: string, name: string, state: TrainingState): string {
  const path = join(dir, name);
  writeFileSync(path, encodeCheckpoint(state, networkSpecs(state.config), { weightsOnly: state.weightsOnly }));
  return path;
}

/** `oneHot`: a conditional model's second input, `class`, (rows, classes). */
async function runOnnx(
  bytes: Uint8Array,
  input: string,
  x: Float32Array,
  features: number,
  oneHot?: { values: Float32Array; classes: number },
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const rows = x.length / features;
  const feeds = {
    [input]: new ort.Tensor('float32', x, [rows, features]),
    ...(oneHot && { class: new ort.Tensor('float32', oneHot.values, [rows, oneHot.classes]) }),
  };
  const result = await session.run(feeds);
  const out: Record<string, Float32Array> = {};
  for (const [name, tensor] of Object.entries(result)) out[name] = tensor.data as Float32Array;
  await session.release();
  return out;
}

/** G(z) by our kernels: the evaluation's sampler. */
async function ourGenerator(
  config: TrainConfig,
  params: Float32Array,
  z: Float32Array,
  rows: number,
  classes?: Uint32Array,
): Promise<Float32Array> {
  const { rt } = await gpu();
  const sampler = await GeneratorSampler.create(rt, config, params, { seed: 0, batch: 16 });
  try {
    return await sampler.decode(z, rows, classes);
  } finally {
    sampler.destroy();
  }
}

/** D's logit by our kernels, as an evaluation pass runs it: no dropout, the input map kept. */
async function ourDiscriminator(
  config: TrainConfig,
  params: Float32Array,
  x: Float32Array,
  rows: number,
  classes?: Uint32Array,
): Promise<Float32Array> {
  const { rt, clock } = await gpu();
  const spec = discriminatorSpec(config);
  const network = new GpuNetwork(rt, spec, { trainable: false });
  await network.upload(params);
  const input = rt.upload('test.d.input', x);
  const labels = classes && rt.upload('test.d.labels', classes);
  const pass = GpuPass.create(
    network,
    clock,
    rows,
    input,
    { seed: 5, sub: 0, streamBase: 0, dropout: false },
    'test.d',
    labels,
  );
  rt.run(await pass.forward());
  const logit = await rt.readF32(pass.output, rows);
  labels?.destroy();
  pass.destroy();
  network.destroy();
  input.destroy();
  return logit;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(Number.isFinite(worst), 'finite outputs');
  return worst;
}

/** The network multiplied out from the PyTorch export's tensors the way the module in docs/export.md does. */
function torchForward(file: Uint8Array, x: Float32Array, rows: number, oneHot?: Float32Array): Float32Array {
  const { tensors, metadata } = decodeSafetensors(file, 'export');
  const spec = JSON.parse(metadata.network) as NetworkSpec;
  const classes = spec.classes ?? 0;
  // A conditional network's first layer takes torch.cat([input_map(x), one_hot], 1).
  let h = Float64Array.from(x);
  if (classes > 0) {
    const map = spec.layers[0].inputMap ?? { scale: 1, shift: 0 };
    const features = spec.inputFeatures;
    h = new Float64Array(rows * (features + classes));
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < features; k++) h[r * (features + classes) + k] = x[r * features + k] * map.scale + map.shift;
      for (let c = 0; c < classes; c++) h[r * (features + classes) + features + c] = oneHot![r * classes + c];
    }
  }
  spec.layers.forEach((layer, l) => {
    const weight = tensors[`${l}.weight`];
    const bias = tensors[`${l}.bias`].data;
    const [width, inputs] = weight.shape;
    assert.equal(width, layer.units * layer.pieces);
    const map = layer.inputMap && !(l === 0 && classes > 0) ? layer.inputMap : { scale: 1, shift: 0 };
    const y = new Float64Array(rows * layer.units);
    for (let r = 0; r < rows; r++) {
      const linear = new Float64Array(width);
      for (let o = 0; o < width; o++) {
        let sum = bias[o];
        for (let k = 0; k < inputs; k++)
          sum += (h[r * inputs + k] * map.scale + map.shift) * weight.data[o * inputs + k];
        linear[o] = sum;
      }
      for (let u = 0; u < layer.units; u++) {
        const v = linear.subarray(u * layer.pieces, (u + 1) * layer.pieces);
        y[r * layer.units + u] =
          layer.activation === 'maxout'
            ? Math.max(...v)
            : layer.activation === 'relu'
              ? Math.max(0, v[0])
              : layer.activation === 'sigmoid'
                ? 1 / (1 + Math.exp(-v[0]))
                : v[0];
      }
    }
    h = y;
  });
  return Float32Array.from(h);
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gan-onnx-'));
});

for (const [what, make, range] of [
  ['MNIST-shaped (ReLU and sigmoid G; maxout D with the input map 2x - 1 and dropout)', imageConfig, 0.3],
  ['toy (ReLU and identity G; maxout D with another input map)', () => tinyToyConfig(), 0.8],
] as const) {
  test(`the ONNX G and D match our kernels to ${ATOL}: ${what}`, async () => {
    const config = make();
    const state = randomState(config, range);
    const checkpoint = writeCheckpoint(dir, `${config.data}.safetensors`, state);
    const onnx = join(dir, `${config.data}.onnx`);
    const report = exportModel({ checkpoint, onnx, discriminator: true });
    assert.deepEqual(report.onnx, {
      generator: onnx,
      discriminator: join(dir, `${config.data}.discriminator.onnx`),
      opset: ONNX_OPSET,
    });

    const g = generatorSpec(config);
    const z = randomArray(seededRandom(11), ROWS * g.inputFeatures, config.noise.low, config.noise.high);
    const generated = (await runOnnx(readFileSync(onnx), 'z', z, g.inputFeatures)).x;
    const expected = await ourGenerator(config, state.generator.average ?? state.generator.params, z, ROWS);
    const gDiff = maxDifference(generated, expected);
    console.log(`# ${config.data}: G max |ONNX - ours| ${gDiff.toExponential(2)} over ${expected.length} outputs`);
    assert.ok(gDiff <= ATOL, `G differs by ${gDiff}`);
    const spread = Math.max(...expected) - Math.min(...expected);
    assert.ok(spread > 0.1, `the outputs vary (${spread}), so the comparison means something`);

    const d = discriminatorSpec(config);
    // MNIST-shaped inputs on [0, 1], toy points on the generator's scale.
    const x =
      config.data === 'mnist'
        ? randomArray(seededRandom(12), ROWS * d.inputFeatures, 0, 1)
        : randomArray(seededRandom(12), ROWS * d.inputFeatures, -2, 2);
    const judged = await runOnnx(readFileSync(discriminatorPath(onnx)), 'x', x, d.inputFeatures);
    const logit = await ourDiscriminator(config, state.discriminator.params, x, ROWS);
    const dDiff = maxDifference(judged.logit, logit);
    console.log(
      `# ${config.data}: D max |ONNX - ours| ${dDiff.toExponential(2)} over ${logit.length} logits (|logit| up to ${Math.max(...logit.map(Math.abs)).toFixed(2)})`,
    );
    assert.ok(dDiff <= ATOL, `D differs by ${dDiff}`);
    assert.ok(
      maxDifference(
        judged.probability,
        logit.map((v) => 1 / (1 + Math.exp(-v))),
      ) <= ATOL,
      'probability is sigmoid(logit)',
    );

    // The PyTorch export, multiplied out in its own layout, gives the same networks.
    const pytorch = join(dir, `${config.data}.pt.safetensors`);
    exportModel({ checkpoint, pytorch, discriminator: true });
    const torchG = torchForward(readFileSync(pytorch), z, ROWS);
    const torchD = torchForward(readFileSync(discriminatorPath(pytorch)), x, ROWS);
    console.log(
      `# ${config.data}: PyTorch layout, max |torch - ours| G ${maxDifference(torchG, expected).toExponential(2)}, D ${maxDifference(torchD, logit).toExponential(2)}`,
    );
    assert.ok(
      maxDifference(torchG, expected) <= ATOL && maxDifference(torchD, logit) <= ATOL,
      'the PyTorch layout computes the same networks',
    );
  });
}

test(`a conditional model (10 classes) exports with a one-hot 'class' input and class rows below the first weight, and matches our kernels to ${ATOL}`, async () => {
  const config = { ...imageConfig(), classes: 10 };
  const state = randomState(config, 0.3);
  const checkpoint = writeCheckpoint(dir, 'conditional.safetensors', state);
  const onnx = join(dir, 'conditional.onnx');
  const pytorch = join(dir, 'conditional.pt.safetensors');
  exportModel({ checkpoint, onnx, pytorch, discriminator: true });
  const classes = Uint32Array.from({ length: ROWS }, (_, r) => (r * 7) % 10);
  const oneHot = new Float32Array(ROWS * 10);
  classes.forEach((c, r) => (oneHot[r * 10 + c] = 1));

  const g = generatorSpec(config);
  const z = randomArray(seededRandom(31), ROWS * g.inputFeatures, config.noise.low, config.noise.high);
  const expected = await ourGenerator(config, state.generator.average!, z, ROWS, classes);
  const session = await ort.InferenceSession.create(readFileSync(onnx));
  assert.deepEqual(session.inputNames, ['z', 'class'], 'G takes z and the one-hot class');
  await session.release();
  const generated = (await runOnnx(readFileSync(onnx), 'z', z, g.inputFeatures, { values: oneHot, classes: 10 })).x;
  const gDiff = maxDifference(generated, expected);
  // Another class for the same z must change the output, or the class input would be ignored.
  const shifted = Uint32Array.from(classes, (c) => (c + 1) % 10);
  const other = await ourGenerator(config, state.generator.average!, z, ROWS, shifted);
  assert.ok(maxDifference(other, expected) > 0.01, 'the class changes G(z)');

  const d = discriminatorSpec(config);
  const x = randomArray(seededRandom(32), ROWS * d.inputFeatures, 0, 1);
  const judged = (
    await runOnnx(readFileSync(discriminatorPath(onnx)), 'x', x, d.inputFeatures, { values: oneHot, classes: 10 })
  ).logit;
  const logit = await ourDiscriminator(config, state.discriminator.params, x, ROWS, classes);
  const dDiff = maxDifference(judged, logit);
  const torchG = maxDifference(torchForward(readFileSync(pytorch), z, ROWS, oneHot), expected);
  const torchD = maxDifference(torchForward(readFileSync(discriminatorPath(pytorch)), x, ROWS, oneHot), logit);
  console.log(
    `# conditional: max |ONNX - ours| G ${gDiff.toExponential(2)}, D ${dDiff.toExponential(2)}; PyTorch layout G ${torchG.toExponential(2)}, D ${torchD.toExponential(2)}`,
  );
  assert.ok(
    gDiff <= ATOL && dDiff <= ATOL && torchG <= ATOL && torchD <= ATOL,
    `G ${gDiff}, D ${dDiff}, torch G ${torchG}, D ${torchD}`,
  );
  const torchFirst = decodeSafetensors(readFileSync(pytorch), 'export').tensors['0.weight'];
  assert.deepEqual(
    torchFirst.shape,
    [g.layers[0].units, g.inputFeatures + 10],
    "the first Linear takes z's and the one-hot's columns",
  );
});

test(`the pretrained small-mnist model (trained weights, 512-wide G, 128 x 3 maxout D) exported to ONNX matches our kernels to ${ATOL}`, async () => {
  const checkpoint = join(root, 'pretrained', 'small-mnist.safetensors');
  const state = decodeCheckpoint(readFileSync(checkpoint), checkpoint, networkSpecs);
  const { config } = state;
  const onnx = join(dir, 'pretrained.onnx');
  assert.equal(exportModel({ checkpoint, onnx, discriminator: true }).generator, 'average');
  const z = randomArray(seededRandom(21), ROWS * config.noise.dim, config.noise.low, config.noise.high);
  const expected = await ourGenerator(config, state.generator.average!, z, ROWS);
  const generated = (await runOnnx(readFileSync(onnx), 'z', z, config.noise.dim)).x;
  // D judges G's own samples: the inputs it was trained on.
  const logit = await ourDiscriminator(config, state.discriminator.params, expected, ROWS);
  const judged = (await runOnnx(readFileSync(discriminatorPath(onnx)), 'x', expected, 784)).logit;
  const [gDiff, dDiff] = [maxDifference(generated, expected), maxDifference(judged, logit)];
  console.log(
    `# pretrained: max |ONNX - ours| G ${gDiff.toExponential(2)}, D ${dDiff.toExponential(2)} (|logit| up to ${Math.max(...logit.map(Math.abs)).toFixed(2)})`,
  );
  assert.ok(gDiff <= ATOL && dDiff <= ATOL, `G ${gDiff}, D ${dDiff}`);
});

test('the ONNX graph is made of standard ops, with a symbolic batch', async () => {
  const config = imageConfig();
  const bytes = checkpointToOnnx(randomState(config, 0.3), 'discriminator');
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual([session.inputNames, session.outputNames], [['x'], ['logit', 'probability']]);
  await session.release();
  const text = new TextDecoder('latin1').decode(bytes);
  for (const op of ['Gemm', 'Mul', 'Add', 'Reshape', 'ReduceMax', 'Sigmoid'])
    assert.ok(text.includes(op), `${op} in the graph`);
  const g = checkpointToOnnx(randomState(config, 0.3), 'generator');
  const gText = new TextDecoder('latin1').decode(g);
  for (const op of ['Gemm', 'Relu', 'Sigmoid']) assert.ok(gText.includes(op), `${op} in G's graph`);
  assert.ok(!gText.includes('ReduceMax'), 'no maxout in G');
  // Any batch: one row and 300 rows through the same file.
  for (const rows of [1, 300]) {
    const out = await runOnnx(g, 'z', new Float32Array(rows * config.noise.dim).fill(0.5), config.noise.dim);
    assert.equal(out.x.length, rows * 784);
  }
  assert.throws(() => networkToOnnx(generatorSpec(config), new Float32Array(3)), /3 parameters given/);
});

test('the moving average by default, G itself with --raw-generator; a weights-only file exports the same', async () => {
  const config = imageConfig();
  const state = randomState(config, 0.3);
  // A whole training state (paper-mnist's momentum SGD keeps one velocity per parameter).
  assert.equal(config.optimizer.kind, 'sgd-pylearn2');
  const velocity = (params: Float32Array) => [new Float32Array(params.length)];
  const full = writeCheckpoint(dir, 'both.safetensors', {
    ...state,
    weightsOnly: false,
    generator: { ...state.generator, optimizer: velocity(state.generator.params) },
    discriminator: { ...state.discriminator, optimizer: velocity(state.discriminator.params) },
    stats: new Float32Array(8),
  });
  const weights = join(dir, 'weights-only.safetensors');
  exportModel({ checkpoint: full, weights });
  const z = randomArray(seededRandom(13), 4 * config.noise.dim, -1, 1);
  const run = async (checkpoint: string, rawGenerator?: boolean) => {
    const onnx = join(dir, `g-${rawGenerator ? 'raw' : 'avg'}.onnx`);
    const report = exportModel({ checkpoint, onnx, rawGenerator });
    assert.equal(report.generator, rawGenerator ? 'raw' : 'average');
    return { bytes: readFileSync(onnx), x: (await runOnnx(readFileSync(onnx), 'z', z, config.noise.dim)).x };
  };
  const average = await run(weights);
  const raw = await run(weights, true);
  assert.ok(maxDifference(average.x, raw.x) > 0.01, 'two generators, two outputs');
  assert.ok(maxDifference(average.x, await ourGenerator(config, state.generator.average!, z, 4)) <= ATOL);
  assert.ok(maxDifference(raw.x, await ourGenerator(config, state.generator.params, z, 4)) <= ATOL);
  assert.deepEqual(
    average.bytes,
    (await run(full)).bytes,
    'the weights-only file exports byte for byte what the checkpoint does',
  );
  // Without a moving average G's own weights are all there is.
  const plain = writeCheckpoint(dir, 'no-average.safetensors', randomState({ ...config, emaDecay: 0 }, 0.3));
  assert.equal(exportModel({ checkpoint: plain, onnx: join(dir, 'plain.onnx') }).generator, 'raw');
});

function gan(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  const stderr = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic'))
    .join('\n');
  return { status: result.status, stdout: result.stdout, stderr };
}

test('gan export --onnx --pytorch --discriminator writes four files and reports them', () => {
  const checkpoint = writeCheckpoint(dir, 'cli.safetensors', randomState(tinyToyConfig(), 0.5));
  const out = join(dir, 'cli-out');
  mkdirSync(out);
  const run = gan(
    'export',
    '--checkpoint',
    checkpoint,
    '--onnx',
    join(out, 'g.onnx'),
    '--pytorch',
    join(out, 'g.safetensors'),
    '--discriminator',
  );
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const names = report.files.map((f: { path: string }) => f.path);
  assert.deepEqual(
    names,
    ['g.onnx', 'g.discriminator.onnx', 'g.safetensors', 'g.discriminator.safetensors'].map((n) => join(out, n)),
  );
  for (const f of report.files) assert.equal(readFileSync(f.path).length, f.bytes);
  const tensorNames = (file: string) =>
    Object.keys(decodeSafetensors(readFileSync(join(out, file)), file).tensors).sort();
  assert.deepEqual(tensorNames('g.safetensors'), ['0.bias', '0.weight', '1.bias', '1.weight']);
  assert.deepEqual(tensorNames('g.discriminator.safetensors'), [
    '0.bias',
    '0.weight',
    '1.bias',
    '1.weight',
    '2.bias',
    '2.weight',
  ]);
});

test('bad input gets one clear line naming the file or flag, exit 1, and writes nothing', () => {
  const checkpoint = writeCheckpoint(dir, 'bad-input.safetensors', randomState(tinyToyConfig(), 0.5));
  const expectFailure = (args: string[], message: RegExp) => {
    const run = gan('export', ...args);
    assert.equal(run.status, 1, `${args.join(' ')} should fail`);
    assert.equal(run.stderr.split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.stderr, message);
  };
  const missing = join(dir, 'no-such-run', 'checkpoint.safetensors');
  expectFailure(['--checkpoint', missing, '--onnx', join(dir, 'x.onnx')], new RegExp(`${missing}: file not found`));
  const inMissingDir = join(dir, 'no-such-dir', 'g.onnx');
  expectFailure(
    ['--checkpoint', checkpoint, '--onnx', inMissingDir],
    new RegExp(`--onnx ${inMissingDir}: directory ${join(dir, 'no-such-dir')} does not exist`),
  );
  expectFailure(['--checkpoint', checkpoint, '--pytorch', dir], new RegExp(`--pytorch ${dir} is a directory`));
  assert.ok(!existsSync(join(dir, 'no-such-dir')) && !existsSync(join(dir, 'x.onnx')), 'nothing written');

  // The same errors in-process (gan.ts prints any ConfigError or CheckpointError as the one line above).
  const refused = (flags: Parameters<typeof exportModel>[0], message: RegExp) =>
    assert.throws(
      () => exportModel(flags),
      (err: Error) => err instanceof ConfigError && message.test(err.message),
    );
  refused({ onnx: 'g.onnx' }, /--checkpoint FILE is needed/);
  refused({ checkpoint }, /--weights OUT, --onnx OUT, --pytorch OUT or --pytorch-run DIR is needed/);
  refused(
    { checkpoint, weights: join(dir, 'w.safetensors'), discriminator: true },
    /--discriminator goes with --onnx or --pytorch/,
  );
  refused({ checkpoint, onnx: checkpoint }, /is the checkpoint itself/);
  refused({ checkpoint, onnx: join(dir, 'same'), pytorch: join(dir, 'same') }, /is named for two outputs/);
  // D's file beside G's is checked before anything is written.
  mkdirSync(join(dir, 'g.discriminator.onnx'));
  refused(
    { checkpoint, onnx: join(dir, 'g.onnx'), discriminator: true },
    /--onnx \(D's file\) .*g\.discriminator\.onnx is a directory/,
  );
  assert.ok(!existsSync(join(dir, 'g.onnx')), "G's file is not written when D's path is bad");
});
