// The toy distributions: the paper's Figure 1 (a 1-D gaussian) and GAN Lab's 2-D mixtures (a ring
// and a grid of gaussians). Points are drawn from the run's seed with the project's own Philox
// generator, so a toy dataset is the same on every machine.
import type { ToyKind } from '../spec/config';
import { drawBits, gaussianPair, unitFromBits } from '../spec/rng';

export interface ToyDistribution {
  kind: ToyKind;
  dims: 1 | 2;
  /** Centres of the mixture's components (one for the 1-D gaussian). */
  centres: number[][];
  std: number;
  /** The square [lo, hi]^dims on which divergences are measured and plots are drawn. */
  bounds: [number, number];
}

export function toyDistribution(kind: ToyKind): ToyDistribution {
  switch (kind) {
    case 'toy-1d':
      return { kind, dims: 1, centres: [[4]], std: 0.5, bounds: [0, 8] };
    case 'toy-2d-ring': {
      const centres = Array.from({ length: 8 }, (_, i) => [
        2 * Math.cos((2 * Math.PI * i) / 8),
        2 * Math.sin((2 * Math.PI * i) / 8),
      ]);
      return { kind, dims: 2, centres, std: 0.1, bounds: [-3, 3] };
    }
    case 'toy-2d-grid': {
      const centres: number[][] = [];
      for (let i = -2; i <= 2; i++) for (let j = -2; j <= 2; j++) centres.push([i, j]);
      return { kind, dims: 2, centres, std: 0.08, bounds: [-3, 3] };
    }
  }
}

/** Stream of the toy dataset's draws: distinct from every training stream. */
const STREAM_TOY_DATA = 7;

/** `count` points of the distribution, row-major (count, dims), from the seed. */
export function sampleToy(distribution: ToyDistribution, count: number, seed: number): Float32Array<ArrayBuffer> {
  const { dims, centres, std } = distribution;
  const points = new Float32Array(count * dims);
  const key = { seed, stream: STREAM_TOY_DATA, step: 0, sub: 0 };
  const bits = new Uint32Array(4);
  for (let i = 0; i < count; i++) {
    drawBits(key, i, 0, bits);
    const centre = centres[Math.min(centres.length - 1, Math.floor(unitFromBits(bits[0]) * centres.length))];
    const [g0, g1] = gaussianPair(bits[1], bits[2]);
    const g = [g0, g1];
    for (let d = 0; d < dims; d++) points[i * dims + d] = centre[d] + std * g[d];
  }
  return points;
}

/** Normalised histogram of points on a grid of `bins` per dimension over `bounds`; points outside count in a last cell. */
export function histogram(
  points: ArrayLike<number>,
  dims: number,
  bounds: [number, number],
  bins: number,
): Float64Array {
  const cells = bins ** dims;
  const h = new Float64Array(cells + 1);
  const [lo, hi] = bounds;
  const count = points.length / dims;
  for (let i = 0; i < count; i++) {
    let cell = 0;
    for (let d = 0; d < dims; d++) {
      const b = Math.floor(((points[i * dims + d] - lo) / (hi - lo)) * bins);
      if (!(b >= 0 && b < bins)) {
        cell = cells;
        break;
      }
      cell = cell * bins + b;
    }
    h[cell] += 1;
  }
  return h.map((v) => v / count);
}

/** Jensen-Shannon divergence of two histograms, in nats: 0 for equal ones, at most ln 2. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) js += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return js;
}

/** Bins per dimension used for the `js` metric: coarse enough that 4,096 samples fill them. */
export function divergenceBins(distribution: ToyDistribution): number {
  return distribution.dims === 1 ? 64 : 24;
}
