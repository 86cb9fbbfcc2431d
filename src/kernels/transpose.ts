// Wrapper of shaders/transpose.wgsl.
import { workgroupCount, type BufferBinding, type Dispatch, type Runtime } from '../gpu/runtime';

const TILE = 8;

/** out = transpose(a), a being (rows, cols). */
export function transposeMatrix(rt: Runtime, rows: number, cols: number, a: BufferBinding, out: GPUBuffer): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'transpose',
    entry: 'transpose',
    buffers: { a, out },
    params: { rows, cols },
    workgroups: [workgroupCount(cols, TILE), workgroupCount(rows, TILE)],
  });
}
