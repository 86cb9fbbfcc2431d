// GFLOP/s of the dense kernels on the paper's shapes, on this machine's adapter. Each dispatch list
// is submitted `repeats` times in one command buffer and timed to the end of the queue.
import { acquireDevice } from '../src/gpu/device';
import { Clock } from '../src/gpu/clock';
import { Runtime, type Dispatch } from '../src/gpu/runtime';
import { denseBackward, denseForward } from '../src/kernels/dense';
import { allocateDenseBuffers } from '../src/nn/dense-buffers';
import type { DenseShape } from '../src/spec/network';

const shapes: [string, DenseShape][] = [
  ['G 100x100 -> 1200 relu', { batch: 100, inFeatures: 100, units: 1200, pieces: 1, activation: 'relu' }],
  ['G 100x1200 -> 1200 relu', { batch: 100, inFeatures: 1200, units: 1200, pieces: 1, activation: 'relu' }],
  ['G 100x1200 -> 784 sigmoid', { batch: 100, inFeatures: 1200, units: 784, pieces: 1, activation: 'sigmoid' }],
  ['D 100x784 -> 240x5 maxout', { batch: 100, inFeatures: 784, units: 240, pieces: 5, activation: 'maxout' }],
  ['D 100x240 -> 240x5 maxout', { batch: 100, inFeatures: 240, units: 240, pieces: 5, activation: 'maxout' }],
];

const context = await acquireDevice();
const rt = new Runtime(context);
const clock = new Clock(context.device);
clock.set(0);
const repeats = Number(process.env.REPEATS ?? 10);

async function time(dispatches: Dispatch[]): Promise<number> {
  rt.run(dispatches);
  await rt.device.queue.onSubmittedWorkDone();
  const started = performance.now();
  const encoder = rt.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (let r = 0; r < repeats; r++) for (const d of dispatches) d.record(pass);
  pass.end();
  rt.device.queue.submit([encoder.finish()]);
  await rt.device.queue.onSubmittedWorkDone();
  return (performance.now() - started) / 1000 / repeats;
}

for (const [name, shape] of shapes) {
  const width = shape.units * shape.pieces;
  const b = allocateDenseBuffers(rt, shape, { label: 'bench' });
  const forward = await denseForward(rt, clock, shape, b);
  const flops = 2 * shape.batch * shape.inFeatures * width;
  const backward = await denseBackward(rt, clock, shape, b);
  const byEntry = (entry: string) => backward.find((d) => d.label.endsWith(`.${entry}`))!;
  const gradInput = byEntry('grad_input');
  const gradWeight = byEntry('grad_weight');
  // The input gradient multiplies every piece of a maxout layer, the losers' zeros included.
  const inputFlops = flops;
  const report = (what: string, seconds: number, f: number) =>
    console.log(
      JSON.stringify({
        kernel: what,
        shape: name,
        ms: +(seconds * 1000).toFixed(2),
        gflops: +(f / seconds / 1e9).toFixed(2),
      }),
    );
  report('forward', await time(forward), flops);
  report('grad_input', await time([gradInput]), inputFlops);
  report('grad_weight', await time([gradWeight]), flops);
}
process.exit(0);
