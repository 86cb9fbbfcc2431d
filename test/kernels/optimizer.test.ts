// shaders/optimizer.wgsl against src/reference/optimizer.ts.
//
// Each step starts the reference from the state the GPU holds, so errors cannot compound, and
// compares elementwise: |gpu - reference| <= rtol * M, M the same update taken over absolute values
// (for v = m v - lr g: M = m|v| + lr|g|; for p = p + v: |p| + that), u = 2^-24:
//   SGD   rtol = 8u: the kernel rounds m v, lr g, their sum, then p + v (each at most u M), the
//         reference rounds v and p once each; 8u leaves room for a contraction into FMA.
//   Adam  rtol = 32u: as SGD for the moments, then two divisions and a sqrt, which WGSL allows
//         2.5 ulp and about 4.5 ulp (1 / inverseSqrt) each, all scaled by the update into p.
// A wrong formula, index or hyperparameter errs by a whole term, far above a few ulps.
// The nonfinite flag is compared exactly. The kernel updates quads of 4 elements: counts that are
// not multiples of 4 check that the padding after the last element keeps its values (and that a NaN
// in the gradient's padding sets no flag).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  clearNonfiniteFlag,
  createNonfiniteFlag,
  createOptimizer,
  flatGrid,
  quads,
  type Optimizer,
} from '../../src/kernels/optimizer';
import { adamBiasCorrections, type OptimizerHyperparameters, type OptimizerRule } from '../../src/spec/optimizer';
import {
  adamStep,
  sgdPylearn2Step,
  sgdPytorchStep,
  type AdamState,
  type SgdState,
} from '../../src/reference/optimizer';
import type { Runtime } from '../../src/gpu/runtime';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';
import { checkTwin, type TwinContext } from '../kernel-twin';

const U = 2 ** -24;
const SGD_RTOL = 8 * U;
const ADAM_RTOL = 32 * U;
// Lets a GPU flush a denormal to zero; a real error is many orders of magnitude larger.
const ATOL = 1e-30;

/** More quads of 4 elements than one row of 65535 workgroups of 64 covers: the 2-D dispatch path. */
const TWO_D = 4 * 65535 * 64 + 1001;
const SIZES = [1, 5, 6, 7, 1023, TWO_D];
/** What the padding after the last element holds, and must still hold after the updates. */
const PADDING = 42;

const SGD_SCHEDULE = [
  { lr: 0.1, momentum: 0.5 },
  { lr: 0.05, momentum: 0.6 },
  { lr: 0.2, momentum: 0.7 },
  { lr: 0.01, momentum: 0.9 },
];
const ADAM_SCHEDULE = [
  { lr: 1e-3, step: 1 },
  { lr: 1e-3, step: 2 },
  { lr: 5e-4, step: 3 },
  { lr: 5e-4, step: 4 },
  { lr: 2e-3, step: 5 },
];

type Hyper = OptimizerHyperparameters;

interface Setup {
  optimizer: Optimizer;
  buffers: Record<string, GPUBuffer>;
  /** The GPU's state as the reference holds it. */
  state: Record<string, Float32Array<ArrayBuffer>>;
  destroy(): void;
}

async function setUp(
  rt: Runtime,
  rule: OptimizerRule,
  count: number,
  random: () => number,
  first: Partial<Hyper> & { lr: number },
): Promise<Setup> {
  const state: Record<string, Float32Array<ArrayBuffer>> = rule === 'adam'
    ? {
        param: randomArray(random, count),
        firstMoment: randomArray(random, count, -0.1, 0.1),
        secondMoment: randomArray(random, count, 0, 0.01),
      }
    : { param: randomArray(random, count), velocity: randomArray(random, count, -0.1, 0.1) };
  const padded = (data: Float32Array, fill: number) => {
    const out = new Float32Array(quads(count) * 4).fill(fill);
    out.set(data);
    return out;
  };
  const buffers: Record<string, GPUBuffer> = {
    grad: rt.upload('test.grad', padded(new Float32Array(count), NaN)),
    nonfinite: createNonfiniteFlag(rt, 'test.nonfinite'),
  };
  for (const [name, data] of Object.entries(state)) buffers[name] = rt.upload(`test.${name}`, padded(data, PADDING));
  const { grad, param, velocity, firstMoment, secondMoment, nonfinite } = buffers;
  const optimizer = await createOptimizer(
    rt,
    { rule, count },
    { grad, param, velocity, firstMoment, secondMoment, nonfinite },
    first,
  );
  return { optimizer, buffers, state, destroy: () => Object.values(buffers).forEach((b) => b.destroy()) };
}

/** The reference's step on a copy of `before`, and the magnitude M of every stored value. */
function referenceStep(rule: OptimizerRule, before: Record<string, Float32Array>, grad: Float32Array, h: Hyper) {
  const after = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.slice()]));
  const n = grad.length;
  const magnitude: Record<string, Float64Array> = {};
  const f = Math.fround;
  if (rule === 'adam') {
    adamStep(after as unknown as AdamState, grad, h);
    const { bias1, bias2 } = adamBiasCorrections(h.beta1, h.beta2, h.step);
    const b1 = f(h.beta1);
    magnitude.firstMoment = new Float64Array(n);
    magnitude.secondMoment = new Float64Array(n);
    magnitude.param = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      magnitude.firstMoment[i] = b1 * Math.abs(before.firstMoment[i]) + (1 - b1) * Math.abs(grad[i]);
      magnitude.secondMoment[i] = after.secondMoment[i];
      const update =
        (f(h.lr) * (magnitude.firstMoment[i] / f(bias1))) /
        (Math.sqrt(after.secondMoment[i] / f(bias2)) + f(h.epsilon));
      magnitude.param[i] = Math.abs(before.param[i]) + update;
    }
  } else {
    (rule === 'sgd-pylearn2' ? sgdPylearn2Step : sgdPytorchStep)(after as unknown as SgdState, grad, h);
    const [lr, m] = [f(h.lr), f(h.momentum)];
    magnitude.velocity = new Float64Array(n);
    magnitude.param = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = m * Math.abs(before.velocity[i]) + (rule === 'sgd-pylearn2' ? lr : 1) * Math.abs(grad[i]);
      magnitude.velocity[i] = v;
      magnitude.param[i] = Math.abs(before.param[i]) + (rule === 'sgd-pylearn2' ? 1 : lr) * v;
    }
  }
  return { after, magnitude };
}

type OptimizerContext = TwinContext<{}, Record<string, GPUBuffer>>;

for (const rule of ['sgd-pylearn2', 'sgd-pytorch', 'adam'] as OptimizerRule[]) {
  for (const count of SIZES) {
    // The 2-D grid's 16.8M elements take two steps: the schedule's changes are checked on the other sizes.
    const schedule: Partial<Hyper>[] = (rule === 'adam' ? ADAM_SCHEDULE : SGD_SCHEDULE).slice(
      0,
      count === TWO_D ? 2 : undefined,
    );
    test(`optimizer ${rule}, ${count} parameters, ${schedule.length} steps with a changing schedule: matches the reference`, async () => {
      const rtol = rule === 'adam' ? ADAM_RTOL : SGD_RTOL;
      let setup: Setup;
      let grad = new Float32Array();
      const step = (changes: Partial<Hyper>, s: number) => ({
        gpu: ({ rt, random }: OptimizerContext) => {
          setup.optimizer.set(changes);
          grad = randomArray(random, count);
          rt.device.queue.writeBuffer(setup.buffers.grad, 0, grad);
          return setup.optimizer.dispatch;
        },
        // From the state the GPU holds, so errors cannot compound.
        twin: ({ got }: OptimizerContext) => {
          const names = Object.keys(setup.state);
          const state = Object.fromEntries(names.map((name) => [name, got[name] ?? setup.state[name]])) as Record<
            string,
            Float32Array
          >;
          const expected = referenceStep(rule, state, grad, setup.optimizer.hyperparameters);
          return Object.fromEntries(
            names.map((name) => [
              `step ${s + 1} ${name}`,
              {
                buffer: name,
                expected: expected.after[name],
                tolerance: { atol: ATOL, rtol, magnitude: expected.magnitude[name] },
              },
            ]),
          );
        },
      });
      await checkTwin({
        seed: count + rule.length,
        inputs: {},
        buffers: async ({ rt, random }) => {
          setup = await setUp(rt, rule, count, random, { lr: 1, ...schedule[0] });
          return Object.assign({ destroy: setup.destroy }, setup.buffers);
        },
        steps: [
          ...schedule.map(step),
          {
            gpu: () => [],
            twin: ({ got }) => ({
              'the nonfinite flag after finite updates': {
                buffer: 'nonfinite',
                expected: Uint32Array.of(0),
                tolerance: 'exact',
              },
              // The values as the last step read them, then the padding, which the updates must leave alone.
              ...Object.fromEntries(
                Object.keys(setup.state).map((name) => {
                  const whole = new Float32Array(quads(count) * 4).fill(PADDING);
                  whole.set(got[name]);
                  return [
                    `${name} and its padding after element ${count}`,
                    { buffer: name, expected: whole, tolerance: 'exact' as const },
                  ];
                }),
              ),
            }),
          },
        ],
      });
    });
  }
}

test('optimizer: the dispatch grid covers every element within the per-dimension limit', () => {
  for (const count of [1, 64, 65, 65535 * 64, 65535 * 64 + 1, quads(TWO_D), 100_000_000]) {
    const [x, y] = flatGrid(count, 64, 65535);
    assert.ok(x <= 65535 && y <= 65535, `${count}: grid ${x} x ${y} exceeds the limit`);
    assert.ok(x * y * 64 >= count, `${count}: grid ${x} x ${y} covers ${x * y * 64} elements`);
    assert.ok((x * y - x) * 64 < count || y === 1, `${count}: grid ${x} x ${y} has a whole spare row`);
  }
  assert.deepEqual(flatGrid(65535 * 64 + 1001, 64, 65535), [32776, 2]);
  assert.deepEqual(flatGrid(quads(TWO_D), 64, 65535), [32770, 2]);
});

test('optimizer: the two SGD conventions agree while lr is constant and differ once it changes', async () => {
  const { rt } = await gpu();
  const count = 1023;
  const random = seededRandom(2014);
  const param = randomArray(random, count);
  const grads = [0, 1, 2].map(() => randomArray(random, count));
  const [lr, newLr, momentum] = [0.1, 0.2, 0.5];
  const runs: Record<string, { param: Float32Array; velocity: Float32Array }[]> = {};
  for (const rule of ['sgd-pylearn2', 'sgd-pytorch'] as const) {
    const buffers = {
      grad: rt.createBuffer('test.grad', count * 4),
      param: rt.upload('test.param', param),
      velocity: rt.createBuffer('test.velocity', count * 4),
      nonfinite: createNonfiniteFlag(rt, 'test.nonfinite'),
    };
    const optimizer = await createOptimizer(rt, { rule, count }, buffers, { lr, momentum });
    runs[rule] = [];
    for (const [step, grad] of grads.entries()) {
      if (step === 2) optimizer.set({ lr: newLr });
      rt.device.queue.writeBuffer(buffers.grad, 0, grad);
      rt.run([optimizer.dispatch]);
      runs[rule].push({
        param: await rt.readF32(buffers.param, count),
        velocity: await rt.readF32(buffers.velocity, count),
      });
    }
    Object.values(buffers).forEach((b) => b.destroy());
  }
  const [pylearn2, pytorch] = [runs['sgd-pylearn2'], runs['sgd-pytorch']];
  // With one lr, pylearn2's v is -lr times PyTorch's and the parameters are the same.
  for (const step of [0, 1]) {
    assertClose(`step ${step + 1} param`, pylearn2[step].param, pytorch[step].param, { atol: 1e-6 });
  }
  // After lr changes from lr to lr', pylearn2's momentum term still carries lr, PyTorch's lr':
  // p_pylearn2 - p_pytorch = (lr' - lr) m v_pytorch(step 2).
  const difference = pylearn2[2].param.map((p, i) => p - pytorch[2].param[i]);
  const predicted = pytorch[1].velocity.map((v) => (newLr - lr) * momentum * v);
  assertClose('p_pylearn2 - p_pytorch after the lr change', difference, predicted, { atol: 1e-6 });
  assert.ok(Math.max(...difference.map(Math.abs)) > 1e-2, 'the conventions should differ visibly after lr changes');
});

for (const [rule, bad] of [
  ['sgd-pylearn2', NaN],
  ['sgd-pytorch', NaN],
  ['adam', Infinity],
] as [OptimizerRule, number][]) {
  test(`optimizer ${rule}: a ${bad} gradient sets the nonfinite flag, and clearing resets it`, async () => {
    const { rt } = await gpu();
    const count = 1023;
    const random = seededRandom(11);
    const setup = await setUp(rt, rule, count, random, { lr: 0.01, momentum: 0.5 });
    const grad = randomArray(random, count);
    rt.device.queue.writeBuffer(setup.buffers.grad, 0, grad);
    rt.run([setup.optimizer.dispatch]);
    assert.equal((await rt.readU32(setup.buffers.nonfinite, 1))[0], 0);
    grad[700] = bad;
    rt.device.queue.writeBuffer(setup.buffers.grad, 0, grad);
    rt.run([setup.optimizer.dispatch]);
    assert.equal((await rt.readU32(setup.buffers.nonfinite, 1))[0], 1);
    assert.ok(!Number.isFinite((await rt.readF32(setup.buffers.param, count))[700]));
    const encoder = rt.device.createCommandEncoder({ label: 'test.clear' });
    clearNonfiniteFlag(encoder, setup.buffers.nonfinite);
    rt.device.queue.submit([encoder.finish()]);
    assert.equal((await rt.readU32(setup.buffers.nonfinite, 1))[0], 0);
    setup.destroy();
  });
}

test('optimizer: bad hyperparameters and missing state buffers are refused by name', async () => {
  const { rt } = await gpu();
  const count = 5;
  const buffers = {
    grad: rt.createBuffer('test.grad', count * 4),
    param: rt.createBuffer('test.param', count * 4),
    nonfinite: createNonfiniteFlag(rt),
  };
  await assert.rejects(
    createOptimizer(rt, { rule: 'adam', count }, buffers, { lr: 1e-3 }),
    /'first_moment' buffer is missing/,
  );
  await assert.rejects(
    createOptimizer(rt, { rule: 'sgd-pylearn2', count: 1000 }, { ...buffers, velocity: buffers.param }, { lr: 0.1 }),
    /'grad' holds 32 bytes, fewer than count = 1000 floats in whole vec4s \(4000 bytes\)/,
  );
  const optimizer = await createOptimizer(
    rt,
    { rule: 'sgd-pylearn2', count },
    { ...buffers, velocity: rt.createBuffer('test.velocity', count * 4) },
    { lr: 0.1 },
  );
  // A range of exactly count floats lacks the rest of the last vec4, which the kernel reads and writes back.
  const exact = { buffer: rt.createBuffer('test.exact', 64), offset: 0, size: count * 4 };
  await assert.rejects(
    createOptimizer(
      rt,
      { rule: 'sgd-pylearn2', count },
      { ...buffers, grad: exact, velocity: buffers.param },
      { lr: 0.1 },
    ),
    /'grad' holds 20 bytes, fewer than count = 5 floats in whole vec4s \(32 bytes\)/,
  );
  assert.throws(() => optimizer.set({ momentum: 1 }), /momentum = 1, it must be in \[0, 1\)/);
  assert.throws(() => optimizer.set({ lr: NaN }), /lr = NaN/);
  assert.equal(optimizer.hyperparameters.lr, 0.1, 'a refused change leaves the hyperparameters as they were');
});
