// Wrapper of shaders/parzen.wgsl: the dispatches of one chunk of points against one chunk of
// samples (norms, the distance GEMM, the log-mean-exp update for every sigma, the final
// log-likelihoods, the nearest-sample update). Built once per chunk; src/eval/window.ts records
// and submits them.
import { workgroupCount, type BufferBinding, type Dispatch, type Runtime } from '../gpu/runtime';
import { quadBinding, tileConstants, tileShader, tileWorkgroups } from './tiles';
import { tunedDispatch } from './tune';

/** Invocations per workgroup of every entry point but the distance GEMM (whose tile src/kernels/tune.ts chooses): the shader's LANES. A power of two. */
const LANES = 64;
/** The most sigmas one accumulate pass serves; must match the shader's MAX_SIGMAS. */
export const MAX_SIGMAS = 16;

/** A chunk: `points` rows of x against `samples` columns of mu_t, `features` long each. */
export interface ChunkShape {
  points: number;
  samples: number;
  features: number;
}

/** Where the chunk sits among all points and samples, and the sigmas it serves. */
export interface ChunkPlace {
  /** The chunk's first point among all points (its rows of ll and nearest_*). */
  firstPoint: number;
  /** The chunk's first sample among all samples. */
  firstSample: number;
  /** The first sample chunk of the window: the running state starts afresh. */
  reset: boolean;
  /** Samples over every chunk. */
  totalSamples: number;
  sigmaCount: number;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`parzen: ${message}`);
}

function params(shape: ChunkShape, place: ChunkPlace) {
  for (const field of ['points', 'samples', 'features'] as const) {
    check(
      Number.isInteger(shape[field]) && shape[field] >= 1,
      `${field} must be a positive integer, got ${shape[field]}`,
    );
  }
  check(
    Number.isInteger(place.sigmaCount) && place.sigmaCount >= 1 && place.sigmaCount <= MAX_SIGMAS,
    `between 1 and ${MAX_SIGMAS} sigmas, got ${place.sigmaCount}`,
  );
  check(
    place.totalSamples >= shape.samples,
    `totalSamples ${place.totalSamples} is fewer than the chunk's ${shape.samples} samples`,
  );
  return {
    points: shape.points,
    samples: shape.samples,
    features: shape.features,
    first_point: place.firstPoint,
    first_sample: place.firstSample,
    reset: place.reset ? 1 : 0,
    total_samples: place.totalSamples,
  };
}

/** A place for dispatches that use none of it (norms, distances). */
function nowhere(shape: ChunkShape): ChunkPlace {
  return { firstPoint: 0, firstSample: 0, reset: true, totalSamples: shape.samples, sigmaCount: 1 };
}

/** norms[t] = ||x_t||^2 for the chunk's points, x (points, features). */
export function rowNorms(rt: Runtime, shape: ChunkShape, x: BufferBinding, norms: GPUBuffer): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'parzen',
    entry: 'row_norms',
    constants: { LANES },
    buffers: { x, norms },
    params: params(shape, nowhere(shape)),
    workgroups: [workgroupCount(shape.points, LANES)],
  });
}

/** norms[s] = ||mu_s||^2 for the chunk's samples, mu_t (features, samples). */
export function columnNorms(rt: Runtime, shape: ChunkShape, muT: BufferBinding, norms: GPUBuffer): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'parzen',
    entry: 'column_norms',
    constants: { LANES },
    buffers: { mu_t: muT, norms },
    params: params(shape, nowhere(shape)),
    workgroups: [workgroupCount(shape.samples, LANES)],
  });
}

export interface DistanceBuffers {
  x: BufferBinding;
  muT: BufferBinding;
  xNorm: GPUBuffer;
  muNorm: GPUBuffer;
  /** (points, samples), written. */
  dist: GPUBuffer;
}

/** dist = ||x||^2 + ||mu||^2 - 2 x mu_t, clamped at 0: one tiled GEMM. */
export function pairDistances(rt: Runtime, shape: ChunkShape, buffers: DistanceBuffers): Promise<Dispatch> {
  const values = params(shape, nowhere(shape));
  // The tile is the one src/kernels/tune.ts chooses for this product on this adapter.
  return tunedDispatch(
    rt,
    'parzenDistances',
    `distances ${shape.points}x${shape.features}x${shape.samples}`,
    shape.points * shape.features * shape.samples,
    (tile) => ({
      shader: tileShader('parzen', tile),
      entry: 'distances',
      // Every row of mu_t starts on a vec4 when the samples are a multiple of 4.
      constants: { ALIGNED: shape.samples % 4 === 0 ? 1 : 0, ...tileConstants(tile) },
      buffers: {
        x: buffers.x,
        mu_t_quads: quadBinding(buffers.muT),
        x_norm: buffers.xNorm,
        mu_norm: buffers.muNorm,
        dist: buffers.dist,
      },
      params: values,
      workgroups: tileWorkgroups(tile, shape.points, shape.samples),
    }),
  );
}

export interface WindowBuffers {
  dist: GPUBuffer;
  sigmas: GPUBuffer;
  /** (points) and (points, sigmas): the running state over sample chunks. */
  rowMin: GPUBuffer;
  rowSum: GPUBuffer;
}

/** Folds one sample chunk's distances into the running log-sum-exp state of every sigma. */
export function accumulateWindow(
  rt: Runtime,
  shape: ChunkShape,
  buffers: WindowBuffers,
  place: ChunkPlace,
): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'parzen',
    entry: 'accumulate',
    constants: { SIGMAS: place.sigmaCount, LANES },
    buffers: { dist_in: buffers.dist, sigmas: buffers.sigmas, row_min: buffers.rowMin, row_sum: buffers.rowSum },
    params: params(shape, place),
    workgroups: [shape.points],
  });
}

/** ll[firstPoint + t, j] = log p(x_t) under sigma j, from the running state after the last chunk. */
export function finishWindow(
  rt: Runtime,
  shape: ChunkShape,
  buffers: { sigmas: GPUBuffer; rowMin: GPUBuffer; rowSum: GPUBuffer; ll: GPUBuffer },
  place: ChunkPlace,
): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'parzen',
    entry: 'finish',
    constants: { SIGMAS: place.sigmaCount, LANES },
    buffers: { sigmas: buffers.sigmas, row_min: buffers.rowMin, row_sum: buffers.rowSum, ll: buffers.ll },
    params: params(shape, place),
    workgroups: [workgroupCount(shape.points, LANES)],
  });
}

/** Folds one sample chunk into the nearest sample of each point (nearest_distance, nearest_index). */
export function nearestUpdate(
  rt: Runtime,
  shape: ChunkShape,
  buffers: { dist: GPUBuffer; nearestDistance: GPUBuffer; nearestIndex: GPUBuffer },
  place: Omit<ChunkPlace, 'sigmaCount'>,
): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'parzen',
    entry: 'nearest',
    constants: { LANES },
    buffers: { dist_in: buffers.dist, nearest_distance: buffers.nearestDistance, nearest_index: buffers.nearestIndex },
    params: params(shape, { ...place, sigmaCount: 1 }),
    workgroups: [shape.points],
  });
}
