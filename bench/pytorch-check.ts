// The PyTorch export run in PyTorch itself: exports a checkpoint (default: the pretrained model) with
// `gan export --pytorch --discriminator`, draws G(z) and D's logits with our kernels, and has
// bench/pytorch_check.py build the README's module, load both files with strict=True and compare.
// Needs /usr/bin/python3 (or PYTHON) with torch and numpy, so it is a manual check, not part of
// `npm test`: npx tsx bench/pytorch-check.ts [CHECKPOINT]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice } from '../src/gpu/device';
import { Clock } from '../src/gpu/clock';
import { Runtime } from '../src/gpu/runtime';
import { GpuNetwork, GpuPass } from '../src/nn/mlp';
import { GeneratorSampler } from '../src/eval/sampler';
import { decodeCheckpoint } from '../src/io/checkpoint';
import { discriminatorSpec } from '../src/spec/config';
import { exportModel, discriminatorPath } from '../src/cli/export';
import { networkSpecs } from '../src/train/session';

const root = new URL('..', import.meta.url).pathname;
const checkpoint = process.argv[2] ?? join(root, 'pretrained', 'small-mnist.safetensors');
const ROWS = 64;

const state = decodeCheckpoint(readFileSync(checkpoint), checkpoint, networkSpecs);
const { config } = state;
const dir = mkdtempSync(join(tmpdir(), 'gan-pytorch-check-'));
const generatorFile = join(dir, 'model.safetensors');
exportModel({ checkpoint, pytorch: generatorFile, discriminator: true });

// z from p_z, drawn here (any z will do: both sides see the same numbers).
let seed = 12345;
const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
const z = Float32Array.from({ length: ROWS * config.noise.dim }, () =>
  config.noise.distribution === 'uniform'
    ? config.noise.low + (config.noise.high - config.noise.low) * uniform()
    : config.noise.std * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
);

const context = await acquireDevice();
const rt = new Runtime(context);
const sampler = await GeneratorSampler.create(rt, config, state.generator.average ?? state.generator.params, {
  seed: 0,
  batch: ROWS,
});
const x = await sampler.decode(z, ROWS);
sampler.destroy();
// D's logit on G's samples, in an evaluation pass (no dropout).
const network = new GpuNetwork(rt, discriminatorSpec(config), { trainable: false });
await network.upload(state.discriminator.params);
const input = rt.upload('check.x', x);
const pass = GpuPass.create(
  network,
  new Clock(context.device),
  ROWS,
  input,
  { seed: 0, sub: 0, streamBase: 0, dropout: false },
  'check.d',
);
rt.run(await pass.forward());
const logit = await rt.readF32(pass.output, ROWS);
context.device.destroy();

for (const [name, data] of [
  ['z.f32', z],
  ['x.f32', x],
  ['logit.f32', logit],
] as const)
  writeFileSync(join(dir, name), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
const python = process.env.PYTHON ?? '/usr/bin/python3';
const run = spawnSync(
  python,
  [
    join(root, 'bench', 'pytorch_check.py'),
    join(root, 'docs', 'export.md'),
    generatorFile,
    discriminatorPath(generatorFile),
    dir,
    String(ROWS),
  ],
  { encoding: 'utf8' },
);
process.stdout.write(run.stdout);
if (run.status !== 0) {
  process.stderr.write(run.stderr || `${python} exited with ${run.status ?? run.error}\n`);
  process.exit(1);
}
