// The kernel check page: the paper's dense-layer shapes on this browser's adapter, compared with
// the CPU reference. It shows that the same src/ code runs in Chrome as in Node.
import { acquireDevice } from '../src/gpu/device';
import { Clock } from '../src/gpu/clock';
import { Runtime } from '../src/gpu/runtime';
import { denseForward } from '../src/kernels/dense';
import { allocateDenseBuffers } from '../src/nn/dense-buffers';
import { denseForward as referenceForward } from '../src/reference/dense';
import type { DenseShape } from '../src/spec/network';

const status = document.querySelector<HTMLParagraphElement>('#status')!;
const table = document.querySelector<HTMLTableElement>('#results')!;

const shapes: DenseShape[] = [
  { batch: 100, inFeatures: 100, units: 1200, pieces: 1, activation: 'relu' },
  { batch: 100, inFeatures: 1200, units: 784, pieces: 1, activation: 'sigmoid' },
  { batch: 200, inFeatures: 784, units: 240, pieces: 5, activation: 'maxout' },
  { batch: 13, inFeatures: 17, units: 9, pieces: 1, activation: 'sigmoid' },
];

function random(n: number, scale: number): Float32Array<ArrayBuffer> {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}

async function check(rt: Runtime, clock: Clock, shape: DenseShape): Promise<void> {
  const width = shape.units * shape.pieces;
  const x = random(shape.batch * shape.inFeatures, 1);
  const weight = random(shape.inFeatures * width, 0.5);
  const bias = random(width, 0.5);
  const buffers = allocateDenseBuffers(rt, shape, { label: 'check', gradients: false, data: { x, weight, bias } });
  const { y } = buffers;
  const dispatches = await denseForward(rt, clock, shape, buffers);
  const started = performance.now();
  rt.run(dispatches);
  await rt.device.queue.onSubmittedWorkDone();
  const milliseconds = performance.now() - started;
  const actual = await rt.readF32(y, shape.batch * shape.units);
  const expected = referenceForward(x, weight, bias, shape).y;
  // The same bound as test/kernels/dense.test.ts: rounding of a float32 sum of inFeatures terms.
  const tolerance = 1e-6 + 2e-6 * shape.inFeatures * 0.5;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  const ok = worst <= tolerance;
  const row = table.tBodies[0].insertRow();
  const label = `${shape.batch}×${shape.inFeatures} → ${shape.units}${shape.pieces > 1 ? `×${shape.pieces}` : ''}`;
  for (const text of [
    `dense ${shape.activation}`,
    label,
    `${worst.toExponential(2)} / ${tolerance.toExponential(2)}`,
    milliseconds.toFixed(1),
  ]) {
    row.insertCell().textContent = text;
  }
  const verdict = row.insertCell();
  verdict.textContent = ok ? 'pass' : 'FAIL';
  verdict.className = ok ? 'pass' : 'fail';
  buffers.destroy();
}

async function main(): Promise<void> {
  try {
    const context = await acquireDevice();
    const rt = new Runtime(context);
    const clock = new Clock(context.device);
    clock.set(0);
    status.textContent = `Adapter: ${context.adapterName}`;
    table.hidden = false;
    for (const shape of shapes) await check(rt, clock, shape);
    document.body.dataset.done = table.querySelector('.fail') ? 'fail' : 'pass';
  } catch (err) {
    status.textContent = (err as Error).message;
    status.classList.add('fail');
    document.body.dataset.done = 'error';
  }
}

main();
