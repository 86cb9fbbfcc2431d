// `gan export --pytorch-run DIR` and its train.py: one iteration in PyTorch from a state, with the
// draws fed in, equals our CPU twin's (src/reference/step.ts); runs of each kind continued by two
// processes under torch.distributed.run come back to `gan train --resume`; a damaged state is
// refused in one line naming the tensor. Skipped, saying why, only where /usr/bin/python3 has no torch.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromJson, presetConfig } from '../../src/train/config';
import {
  dataFeatures,
  discriminatorSpec,
  generatorSpec,
  layerInitRanges,
  type TrainConfig,
} from '../../src/spec/config';
import { initialParameters } from '../../src/train/init';
import { referenceIteration, type ReferenceState } from '../../src/reference/step';
import { gatherIndices } from '../../src/reference/gather';
import { classNoise, gaussianNoise, uniformNoise } from '../../src/reference/noise';
import { dropoutMask } from '../../src/reference/dense';
import { layerInputs, parameterLayout } from '../../src/nn/layout';
import { DISCRIMINATOR_DROPOUT_STREAM, FAKE_PASS, REAL_PASS, dStepPass, gStepPass } from '../../src/spec/keys';
import { STREAM_CLASS, STREAM_GATHER, STREAM_NOISE } from '../../src/spec/rng';
import { loadMnist } from '../../src/data/mnist-files-node';
import { MNIST_TRAIN_COUNT } from '../../src/data/mnist-format';
import { decodeCheckpoint, readCheckpointFile } from '../../src/io/checkpoint';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/io/safetensors';
import { exportPytorchRun } from '../../src/io/pytorch-run';
import { networkSpecs } from '../../src/train/session';
import type { TrainingState } from '../../src/spec/state';

const root = new URL('../..', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status !== 0;
const skip = torchMissing
  ? `${PYTHON} has no torch and numpy (apt-get install python3-torch python3-numpy; .ci/install-system.sh does)`
  : false;
// Debian's torch 1.13 launcher under Python 3.11 cannot parse its own default "0" for these two
// flags (an IntFlag zero no longer iterates), so they are given: stderr teed, stdout as it is.
const LAUNCH = ['-m', 'torch.distributed.run', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2'];

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GAN_TUNE: 'off', OMP_NUM_THREADS: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const gan = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args]);

/** A preset at test widths: its layers' dropout, input maps, pieces and activations, few units. */
function tiny(preset: string, fields: Record<string, unknown> = {}): TrainConfig {
  const base = presetConfig(preset);
  const shrink = (layers: TrainConfig['generator']['layers'], units: number) =>
    layers.map((l, i) => (i < layers.length - 1 ? { ...l, units } : l));
  return configFromJson(
    {
      preset,
      ...fields,
      generator: { layers: shrink(base.generator.layers, 12), initRange: 0.3 },
      discriminator: { layers: shrink(base.discriminator.layers, 6), initRange: 0.3 },
    },
    'test',
  );
}

const mnist = loadMnist();
const dataset = (config: TrainConfig) => ({
  values: mnist.train.pixels,
  first: 0,
  count: MNIST_TRAIN_COUNT,
  scale: 1 / 255,
  labels: config.classes > 0 ? mnist.train.labels : undefined,
});
const PER_EPOCH = (config: TrainConfig) => Math.floor(MNIST_TRAIN_COUNT / config.batch);

/** The state after our CPU twin's first iteration, so every optimizer tensor and the average have moved. */
function stateAfterOne(config: TrainConfig): ReferenceState {
  const player = (spec: ReturnType<typeof generatorSpec>, ranges: number[], index: number, kinds: number) => {
    const params = initialParameters(spec, ranges, config.seed, index);
    return {
      params,
      optimizer: Array.from({ length: kinds }, () => new Float32Array(params.length)),
      average: config.emaDecay > 0 && index === 0 ? params.slice() : undefined,
    };
  };
  const kinds = config.optimizer.kind === 'adam' ? 2 : 1;
  const state = {
    generator: player(generatorSpec(config), layerInitRanges(config.generator), 0, kinds),
    discriminator: player(discriminatorSpec(config), layerInitRanges(config.discriminator), 1, kinds),
  };
  referenceIteration(config, dataset(config), state, 0, PER_EPOCH(config));
  return state;
}

function trainingState(config: TrainConfig, state: ReferenceState, iteration: number): TrainingState {
  const copy = (p: ReferenceState['generator']) => ({
    params: p.params.slice(),
    optimizer: p.optimizer.map((o) => o.slice()),
    ...(p.average && { average: p.average.slice() }),
  });
  return {
    config,
    iteration,
    generator: copy(state.generator),
    discriminator: copy(state.discriminator),
    stats: new Float32Array(8),
  };
}

/** The draws of iteration `i` as the twin makes them, named as train.py's FedDraws reads them. */
function draws(config: TrainConfig, i: number): Record<string, NamedTensor> {
  const { batch, seed, noise } = config;
  const out: Record<string, NamedTensor> = {};
  const f32 = (shape: number[], data: Float32Array): NamedTensor => ({ dtype: 'F32', shape, data });
  const u32 = (data: Uint32Array): NamedTensor => ({ dtype: 'U32', shape: [data.length], data });
  const noiseAt = (sub: number) => {
    const key = { seed, stream: STREAM_NOISE, step: i, sub };
    const shape = { rows: batch, cols: noise.dim };
    out[`z.${sub}`] = f32(
      [batch, noise.dim],
      noise.distribution === 'uniform'
        ? uniformNoise(shape, key, noise.low, noise.high)
        : gaussianNoise(shape, key, noise.std),
    );
    if (config.classes > 0)
      out[`class.${sub}`] = u32(classNoise(batch, config.classes, { seed, stream: STREAM_CLASS, step: i, sub }));
  };
  const masks = (pass: number) => {
    const spec = discriminatorSpec(config);
    spec.layers.forEach((layer, l) => {
      if (!layer.dropout) return;
      const inputs = layerInputs(spec, l);
      const mask = dropoutMask(batch, inputs, {
        ...layer.dropout,
        rng: { seed, stream: DISCRIMINATOR_DROPOUT_STREAM + l, step: i, sub: pass },
      });
      out[`mask.discriminator.${l}.${pass}`] = f32([batch, inputs], Float32Array.from(mask));
    });
  };
  const dStep = (sub: number) => {
    noiseAt(sub);
    out[`indices.${sub}`] = u32(
      gatherIndices(
        { batch, features: dataFeatures(config), first: 0, count: MNIST_TRAIN_COUNT, scale: 1 / 255 },
        { seed, stream: STREAM_GATHER, step: i, sub },
      ),
    );
    masks(sub + REAL_PASS);
    masks(sub + FAKE_PASS);
  };
  if (config.form === 'simultaneous') dStep(dStepPass(0));
  else {
    for (let j = 0; j < config.k; j++) dStep(dStepPass(j));
    noiseAt(gStepPass(config.k));
    masks(gStepPass(config.k) + FAKE_PASS);
  }
  return out;
}

const EQUALITY_CASES: [string, TrainConfig][] = [
  [
    'small-mnist, k = 2: Adam with epsilon 1e-6, the average, input map and dropout',
    tiny('small-mnist', { batch: 7, k: 2 }),
  ],
  [
    'paper-mnist: simultaneous, pylearn2 momentum and lr decay, minimax, target .9',
    tiny('paper-mnist', {
      batch: 7,
      gLoss: 'minimax',
      realTarget: 0.9,
      optimizer: { momentumRampStart: 0, momentumRampEnd: 1, lrDecay: 1.01 },
    }),
  ],
  [
    'cmnist-small: class rows at 10 x lr, least squares, sgd-pytorch, emaStart 1',
    tiny('cmnist-small', {
      batch: 7,
      gLoss: 'least-squares',
      emaStart: 1,
      optimizer: { kind: 'sgd-pytorch', lr: 0.05 },
    }),
  ],
];

// Float32 rounding: the sums run in another order (and the losses in float32, ours in float64), so
// a value may differ by a few ulps of the terms behind it; 2e-6 absolute plus 1e-4 relative bounds
// that at these sizes with room to spare.
const ATOL = 2e-6;
const RTOL = 1e-4;

for (const [name, config] of EQUALITY_CASES) {
  test(
    `one iteration of train.py from a state with the draws fed in equals our CPU twin's: ${name}`,
    { skip },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gan-pt-one-'));
      const before = stateAfterOne(config);
      await exportPytorchRun(trainingState(config, before, 1), join(dir, 'none.safetensors'), join(dir, 'run'));
      writeFileSync(join(dir, 'draws.safetensors'), encodeSafetensors(draws(config, 1), {}));
      const py = run(PYTHON, [
        join(dir, 'run', 'train.py'),
        '--iters',
        '2',
        '--fed-draws',
        join(dir, 'draws.safetensors'),
      ]);
      assert.equal(py.status, 0, py.stderr);
      referenceIteration(config, dataset(config), before, 1, PER_EPOCH(config));
      const got = decodeCheckpoint(
        readCheckpointFile(join(dir, 'run', 'checkpoint.safetensors')),
        'train.py',
        networkSpecs,
      );
      assert.equal(got.iteration, 2);
      const want = trainingState(config, before, 2);
      for (const player of ['generator', 'discriminator'] as const) {
        const layout = parameterLayout(player === 'generator' ? generatorSpec(config) : discriminatorSpec(config));
        const arrays: [string, Float32Array, Float32Array][] = [
          ['', got[player].params, want[player].params],
          ...want[player].optimizer.map((o, k): [string, Float32Array, Float32Array] => [
            ` state ${k}`,
            got[player].optimizer[k],
            o,
          ]),
        ];
        if (player === 'generator' && want.generator.average)
          arrays.push([' average', got.generator.average!, want.generator.average]);
        for (const [what, a, b] of arrays) {
          for (const t of layout.tensors) {
            for (let e = t.offset; e < t.offset + t.size; e++) {
              const excess = Math.abs(a[e] - b[e]) - (ATOL + RTOL * Math.abs(b[e]));
              if (excess > 0) assert.fail(`${t.name}${what}[${e - t.offset}]: train.py ${a[e]}, the CPU twin ${b[e]}`);
            }
          }
        }
      }
    },
  );
}

const KINDS: [string, TrainConfig][] = [
  ['paper-mnist', tiny('paper-mnist', { batch: 10 })],
  ['small-mnist (its average)', tiny('small-mnist', { batch: 10 })],
  ['cmnist-small', tiny('cmnist-small', { batch: 10 })],
];

for (const [name, config] of KINDS) {
  test(
    `a ${name} run exported, continued by two processes under torch.distributed.run and resumed by gan train`,
    { skip },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'gan-pt-run-'));
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({ ...config, logEvery: 4, sampleEvery: 1000, checkpointEvery: 1000 }),
      );
      const ours = join(dir, 'ours');
      const first = gan('train', '--config', join(dir, 'config.json'), '--iters', '8', '--out', ours);
      assert.equal(first.status, 0, first.stderr);
      const exported = gan(
        'export',
        '--checkpoint',
        join(ours, 'checkpoint.safetensors'),
        '--pytorch-run',
        join(dir, 'pt'),
      );
      assert.equal(exported.status, 0, exported.stderr);
      const py = run(PYTHON, [...LAUNCH, join(dir, 'pt', 'train.py'), '--iters', '16']);
      assert.equal(py.status, 0, py.stderr);
      assert.match(py.stdout, /iter 16\/16 d_loss/);
      const back = decodeCheckpoint(
        readCheckpointFile(join(dir, 'pt', 'checkpoint.safetensors')),
        'train.py',
        networkSpecs,
      );
      assert.equal(back.iteration, 16);
      assert.equal(!!back.generator.average, config.emaDecay > 0, 'the average comes back when the run keeps one');
      assert.equal(JSON.parse(readFileSync(join(dir, 'pt', 'config.json'), 'utf8')).iterations, 16);
      const resumed = gan(
        'train',
        '--resume',
        join(dir, 'pt', 'checkpoint.safetensors'),
        '--iters',
        '20',
        '--out',
        join(dir, 'pt'),
      );
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /Resuming at iteration 16/);
      const lines = readFileSync(join(dir, 'pt', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
      assert.deepEqual(
        lines.map((l) => l.iter),
        [4, 8, 12, 16, 20],
        "ours, PyTorch's and ours again, one line per window",
      );
      for (const line of lines) {
        for (const key of ['d_loss', 'g_loss', 'd_real', 'd_fake', 'lr', 'its_per_s'])
          assert.ok(Number.isFinite(line[key]), `line ${line.iter}: ${key}`);
      }
    },
  );
}

test('train.py refuses a state whose tensor is missing or misshapen, in one line naming it', { skip }, async () => {
  const config = tiny('small-mnist', { batch: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'gan-pt-bad-'));
  await exportPytorchRun(
    trainingState(config, stateAfterOne(config), 1),
    join(dir, 'none.safetensors'),
    join(dir, 'run'),
  );
  const path = join(dir, 'run', 'checkpoint.safetensors');
  const good = readFileSync(path);
  const rewrite = (change: (tensors: Record<string, NamedTensor>) => void) => {
    const { tensors, metadata } = decodeSafetensors(good, path);
    change(tensors);
    const { data_sha256: _, ...rest } = metadata;
    writeFileSync(path, encodeSafetensors(tensors, rest));
  };
  const refused = (pattern: RegExp) => {
    const py = run(PYTHON, [join(dir, 'run', 'train.py'), '--iters', '3']);
    assert.equal(py.status, 1);
    assert.equal(py.stderr.trim().split('\n').length, 1, py.stderr);
    assert.match(py.stderr, pattern);
  };
  rewrite((t) => delete t['discriminator.1.bias.adam_v']);
  refused(new RegExp(`^train.py: ${path}: tensor 'discriminator.1.bias.adam_v' is missing.`));
  rewrite((t) => (t['generator.0.weight.ema'] = { dtype: 'F32', shape: [12, 100], data: new Float32Array(1200) }));
  refused(
    new RegExp(`^train.py: ${path}: tensor 'generator.0.weight.ema' has shape 12x100, the config's model needs 100x12`),
  );
  assert.ok(existsSync(path), 'the refused checkpoint is left as it was');
});

test('--pytorch-run refuses what it cannot continue, in one line, before writing anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-pt-refuse-'));
  const weights = gan('export', '--checkpoint', 'pretrained/small-mnist.safetensors', '--pytorch-run', join(dir, 'a'));
  assert.equal(weights.status, 1);
  assert.match(
    weights.stderr.trim(),
    /^gan: pretrained\/small-mnist\.safetensors: holds weights only, no optimizer state; --pytorch-run continues a run/,
  );
  const together = gan(
    'export',
    '--checkpoint',
    'pretrained/small-mnist.safetensors',
    '--pytorch-run',
    join(dir, 'b'),
    '--onnx',
    join(dir, 'g.onnx'),
  );
  assert.equal(together.status, 1);
  assert.match(together.stderr.trim(), /--pytorch-run goes alone: export --onnx in another command\.$/);
  const toy = presetConfig('toy-1d');
  const state = trainingState(
    toy,
    {
      generator: { params: new Float32Array(0), optimizer: [] },
      discriminator: { params: new Float32Array(0), optimizer: [] },
    },
    0,
  );
  await assert.rejects(
    exportPytorchRun(state, join(dir, 'none.safetensors'), join(dir, 'c')),
    /the run trains on 'toy-1d'; --pytorch-run continues MNIST and Fashion-MNIST runs/,
  );
  assert.ok(
    !existsSync(join(dir, 'a')) && !existsSync(join(dir, 'b')) && !existsSync(join(dir, 'c')),
    'no directory is made',
  );
});
