// A set of samples kept on the GPU for distance questions: the Gaussian Parzen window's
// log-likelihood of points for several sigmas, and each point's nearest sample. Samples and points
// are both cut into chunks that respect the device's buffer limits; the dispatches of a query are
// built before its chunks are submitted and no chunk waits for another (one readback at the end).
import type { Dispatch, Runtime } from '../gpu/runtime';
import { DeviceLimitError } from '../gpu/device';
import {
  accumulateWindow,
  columnNorms,
  finishWindow,
  MAX_SIGMAS,
  nearestUpdate,
  pairDistances,
  rowNorms,
  type ChunkShape,
} from '../kernels/parzen';

/** Row-major rows of `features` values, each value multiplied by `scale` on upload (1/255 for pixels). */
export interface Rows {
  values: Float32Array | Uint8Array;
  count: number;
  features: number;
  scale?: number;
}

export interface WindowOptions {
  /** Upper bounds on the chunk sizes; the device's limits bound them too. Tests set small ones to exercise chunking. */
  maxSamplesPerChunk?: number;
  maxPointsPerChunk?: number;
}

/** Kept moderate so that a chunk's distance matrix (points x samples floats) stays tens of MB. */
const DEFAULT_SAMPLES_PER_CHUNK = 16_384;
const DEFAULT_POINTS_PER_CHUNK = 1024;

interface SampleChunk {
  first: number;
  count: number;
  muT: GPUBuffer;
  muNorm: GPUBuffer;
}

function checkRows(rows: Rows, what: string): void {
  if (!Number.isInteger(rows.count) || rows.count < 1)
    throw new RangeError(`${what}: count must be a positive integer, got ${rows.count}`);
  if (rows.values.length < rows.count * rows.features)
    throw new RangeError(
      `${what}: ${rows.values.length} values hold fewer than ${rows.count} rows of ${rows.features}`,
    );
  if (rows.values instanceof Float32Array) {
    const bad = rows.values.subarray(0, rows.count * rows.features).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new RangeError(
        `${what}: row ${Math.floor(bad / rows.features)} holds a non-finite value (${rows.values[bad]})`,
      );
  }
}

/** Rows [first, first + count) as float32, transposed to (features, count). The CPU converts the values anyway, so transposing there costs nothing extra. */
function transposedChunk(rows: Rows, first: number, count: number): Float32Array<ArrayBuffer> {
  const { values, features } = rows;
  const scale = rows.scale ?? 1;
  const out = new Float32Array(features * count);
  for (let s = 0; s < count; s++) {
    const base = (first + s) * features;
    for (let k = 0; k < features; k++) out[k * count + s] = values[base + k] * scale;
  }
  return out;
}

function rowChunk(
  rows: Rows,
  first: number,
  count: number,
  into: Float32Array<ArrayBuffer>,
): Float32Array<ArrayBuffer> {
  const { values, features } = rows;
  const scale = rows.scale ?? 1;
  const chunk = into.subarray(0, count * features);
  const base = first * features;
  for (let i = 0; i < chunk.length; i++) chunk[i] = values[base + i] * scale;
  return chunk;
}

export class SampleWindow {
  private constructor(
    readonly rt: Runtime,
    readonly features: number,
    readonly sampleCount: number,
    private readonly chunks: SampleChunk[],
    readonly pointsPerChunk: number,
  ) {}

  /** Uploads the samples (transposed, chunk by chunk) and computes their squared norms. */
  static async create(rt: Runtime, samples: Rows, options: WindowOptions = {}): Promise<SampleWindow> {
    checkRows(samples, 'samples');
    const { features, count } = samples;
    const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
    const bytesPerRow = 4 * features;
    if (bytesPerRow > limit) {
      throw new DeviceLimitError(
        `A sample of ${features} values needs ${bytesPerRow} bytes, more than the device limit maxStorageBufferBindingSize = ${limit}.`,
      );
    }
    const samplesCap = Math.max(
      1,
      Math.min(options.maxSamplesPerChunk ?? DEFAULT_SAMPLES_PER_CHUNK, Math.floor(limit / bytesPerRow)),
    );
    const chunkCount = Math.ceil(count / samplesCap);
    // Equal chunks rather than full ones and a remainder: each distance matrix then has the same size.
    const perChunk = Math.ceil(count / chunkCount);
    const pointsPerChunk = Math.max(
      1,
      Math.min(
        options.maxPointsPerChunk ?? DEFAULT_POINTS_PER_CHUNK,
        Math.floor(limit / (4 * perChunk)),
        Math.floor(limit / bytesPerRow),
        rt.limits.maxComputeWorkgroupsPerDimension,
      ),
    );
    const chunks: SampleChunk[] = [];
    const norms: Dispatch[] = [];
    for (let first = 0; first < count; first += perChunk) {
      const n = Math.min(perChunk, count - first);
      const c = chunks.length;
      const chunk = {
        first,
        count: n,
        muT: rt.upload(`parzen.mu_t.${c}`, transposedChunk(samples, first, n)),
        muNorm: rt.createBuffer(`parzen.mu_norm.${c}`, n * 4),
      };
      chunks.push(chunk);
      norms.push(await columnNorms(rt, { points: 1, samples: n, features }, chunk.muT, chunk.muNorm));
    }
    rt.run(norms, 'parzen.mu_norm');
    return new SampleWindow(rt, features, count, chunks, pointsPerChunk);
  }

  get sampleChunks(): number {
    return this.chunks.length;
  }

  /** The buffers one query needs, sized for the largest chunks. */
  private scratch(sigmaCount: number) {
    const { rt, features, pointsPerChunk } = this;
    const widest = Math.max(...this.chunks.map((c) => c.count));
    return {
      x: rt.createBuffer('parzen.x', pointsPerChunk * features * 4),
      xNorm: rt.createBuffer('parzen.x_norm', pointsPerChunk * 4),
      dist: rt.createBuffer('parzen.dist', pointsPerChunk * widest * 4),
      rowMin: rt.createBuffer('parzen.row_min', pointsPerChunk * 4),
      rowSum: rt.createBuffer('parzen.row_sum', pointsPerChunk * sigmaCount * 4),
    };
  }

  /** Submits, chunk by chunk, the upload of the points and `dispatchesOf(first, count)`. */
  private async runPointChunks(
    points: Rows,
    x: GPUBuffer,
    dispatchesOf: (first: number, count: number) => Promise<Dispatch[]>,
  ): Promise<void> {
    const plans: { first: number; count: number; dispatches: Dispatch[] }[] = [];
    for (let first = 0; first < points.count; first += this.pointsPerChunk) {
      const count = Math.min(this.pointsPerChunk, points.count - first);
      plans.push({ first, count, dispatches: await dispatchesOf(first, count) });
    }
    const staging = new Float32Array(this.pointsPerChunk * this.features);
    for (const plan of plans) {
      // Queue order puts this write after the previous chunk's submission has used the buffer.
      const chunk = rowChunk(points, plan.first, plan.count, staging);
      this.rt.device.queue.writeBuffer(x, 0, chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.rt.run(plan.dispatches, 'parzen.chunk');
    }
  }

  private checkPoints(points: Rows): void {
    checkRows(points, 'points');
    if (points.features !== this.features)
      throw new RangeError(`points have ${points.features} features, the samples ${this.features}`);
  }

  /** log p(x) of every point under the window of each sigma, row-major (points, sigmas). */
  async logLikelihoods(points: Rows, sigmas: readonly number[]): Promise<Float32Array> {
    this.checkPoints(points);
    if (sigmas.length < 1 || sigmas.length > MAX_SIGMAS)
      throw new RangeError(`parzen: between 1 and ${MAX_SIGMAS} sigmas, got ${sigmas.length}`);
    const bad = sigmas.find((s) => !(s > 0) || !Number.isFinite(s));
    if (bad !== undefined) throw new RangeError(`parzen: sigma ${bad} is not a positive number`);
    const { rt, features } = this;
    const scratch = this.scratch(sigmas.length);
    const sigmaBuffer = rt.upload('parzen.sigmas', new Float32Array(sigmas));
    const ll = rt.createBuffer('parzen.ll', points.count * sigmas.length * 4);
    const owned = [...Object.values(scratch), sigmaBuffer, ll];
    try {
      await this.runPointChunks(points, scratch.x, async (firstPoint, count) => {
        const dispatches = [await rowNorms(rt, { points: count, samples: 1, features }, scratch.x, scratch.xNorm)];
        for (const [c, chunk] of this.chunks.entries()) {
          const shape: ChunkShape = { points: count, samples: chunk.count, features };
          const place = {
            firstPoint,
            firstSample: chunk.first,
            reset: c === 0,
            totalSamples: this.sampleCount,
            sigmaCount: sigmas.length,
          };
          dispatches.push(
            await pairDistances(rt, shape, {
              x: scratch.x,
              muT: chunk.muT,
              xNorm: scratch.xNorm,
              muNorm: chunk.muNorm,
              dist: scratch.dist,
            }),
            await accumulateWindow(
              rt,
              shape,
              { dist: scratch.dist, sigmas: sigmaBuffer, rowMin: scratch.rowMin, rowSum: scratch.rowSum },
              place,
            ),
          );
        }
        const place = {
          firstPoint,
          firstSample: 0,
          reset: false,
          totalSamples: this.sampleCount,
          sigmaCount: sigmas.length,
        };
        dispatches.push(
          await finishWindow(
            rt,
            { points: count, samples: this.chunks[0].count, features },
            { sigmas: sigmaBuffer, rowMin: scratch.rowMin, rowSum: scratch.rowSum, ll },
            place,
          ),
        );
        return dispatches;
      });
      return await rt.readF32(ll, points.count * sigmas.length);
    } finally {
      for (const b of owned) b.destroy();
    }
  }

  /** Each point's nearest sample (the lowest index among equally near ones) and its squared distance. */
  async nearest(points: Rows): Promise<{ index: Uint32Array; distance: Float32Array }> {
    this.checkPoints(points);
    const { rt, features } = this;
    const scratch = this.scratch(1);
    const nearestDistance = rt.createBuffer('parzen.nearest_distance', points.count * 4);
    const nearestIndex = rt.createBuffer('parzen.nearest_index', points.count * 4);
    const owned = [...Object.values(scratch), nearestDistance, nearestIndex];
    try {
      await this.runPointChunks(points, scratch.x, async (firstPoint, count) => {
        const dispatches = [await rowNorms(rt, { points: count, samples: 1, features }, scratch.x, scratch.xNorm)];
        for (const [c, chunk] of this.chunks.entries()) {
          const shape: ChunkShape = { points: count, samples: chunk.count, features };
          dispatches.push(
            await pairDistances(rt, shape, {
              x: scratch.x,
              muT: chunk.muT,
              xNorm: scratch.xNorm,
              muNorm: chunk.muNorm,
              dist: scratch.dist,
            }),
            await nearestUpdate(
              rt,
              shape,
              { dist: scratch.dist, nearestDistance, nearestIndex },
              { firstPoint, firstSample: chunk.first, reset: c === 0, totalSamples: this.sampleCount },
            ),
          );
        }
        return dispatches;
      });
      return {
        index: await rt.readU32(nearestIndex, points.count),
        distance: await rt.readF32(nearestDistance, points.count),
      };
    } finally {
      for (const b of owned) b.destroy();
    }
  }

  destroy(): void {
    for (const c of this.chunks) {
      c.muT.destroy();
      c.muNorm.destroy();
    }
  }
}
