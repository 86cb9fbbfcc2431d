// shaders/transpose.wgsl against src/reference/transpose.ts: a copy, so compared bit for bit.
import test from 'node:test';
import assert from 'node:assert/strict';
import { transposeMatrix } from '../../src/kernels/transpose';
import { transpose } from '../../src/reference/transpose';
import { gpu, randomArray, seededRandom } from '../helpers';

const shapes: [number, number][] = [[1, 1], [1, 13], [13, 1], [7, 9], [8, 8], [17, 33], [784, 1200], [1200, 1200], [240, 1200], [100, 1]];

for (const [rows, cols] of shapes) {
  test(`transpose ${rows}x${cols} matches the reference exactly`, async () => {
    const { rt } = await gpu();
    const a = randomArray(seededRandom(rows * 7919 + cols), rows * cols);
    const input = rt.upload('test.a', a);
    const out = rt.createBuffer('test.out', a.byteLength);
    rt.run([await transposeMatrix(rt, rows, cols, input, out)]);
    assert.deepEqual(await rt.readF32(out, a.length), transpose(a, rows, cols));
    input.destroy();
    out.destroy();
  });
}
