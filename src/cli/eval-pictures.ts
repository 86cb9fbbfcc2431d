// The paper's pictures from `gan eval`: Figure 2 (--neighbours: rows of samples, each ending with the
// training image nearest its last sample) and Figure 3 (--interpolate: G along straight segments
// between draws of z), each written as a PNG.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../gpu/runtime';
import { imageGridPng, neighbourGridPng } from '../io/images';
import type { TrainingState } from '../spec/state';
import { drawNoise, EVAL_INTERPOLATION_PASS, type GeneratorSampler } from '../eval/sampler';
import { SampleWindow } from '../eval/window';
import { atPath } from './fs-errors';
import { checkFinite, type EvalData, imageRows, imagesAsFloats, seconds } from './eval-data';

/** Figure 2: rows of generated digits, the last column the training digit nearest the row's last sample. */
export const NEIGHBOUR_ROWS = 8;
export const NEIGHBOUR_SAMPLES_PER_ROW = 5;
/** Figure 3: rows of images along the segment between two z, endpoints included. */
export const INTERPOLATION_ROWS = 8;
export const INTERPOLATION_STEPS = 10;

/** Figure 2: rows of samples, each ending with the training image nearest its last sample; writes the PNG. */
export async function neighboursFigure(
  rt: Runtime,
  sampler: GeneratorSampler,
  generated: Float32Array | undefined,
  data: EvalData,
  png: string,
  checkpoint: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const { features, images: dataset } = data;
  const shown = NEIGHBOUR_ROWS * NEIGHBOUR_SAMPLES_PER_ROW;
  // The first samples of the seed's draw: the same images the Parzen window starts with.
  const images =
    generated && generated.length >= shown * features
      ? generated.subarray(0, shown * features)
      : await sampler.sample(shown);
  checkFinite(images, checkpoint, features);
  const queries = new Float32Array(NEIGHBOUR_ROWS * features);
  for (let r = 0; r < NEIGHBOUR_ROWS; r++)
    queries.set(
      images.subarray(
        ((r + 1) * NEIGHBOUR_SAMPLES_PER_ROW - 1) * features,
        (r + 1) * NEIGHBOUR_SAMPLES_PER_ROW * features,
      ),
      r * features,
    );
  const training = await SampleWindow.create(rt, imageRows(data, dataset.train, 0, dataset.train.count));
  let nearest: { index: Uint32Array; distance: Float32Array };
  try {
    nearest = await training.nearest({ values: queries, count: NEIGHBOUR_ROWS, features });
  } finally {
    training.destroy();
  }
  atPath(png, () =>
    writeFileSync(
      png,
      neighbourGridPng(
        images,
        imagesAsFloats(data, nearest.index),
        NEIGHBOUR_ROWS,
        NEIGHBOUR_SAMPLES_PER_ROW,
        dataset.height,
        dataset.width,
        2,
        data.look,
      ),
    ),
  );
  return {
    png,
    rows: NEIGHBOUR_ROWS,
    samples_per_row: NEIGHBOUR_SAMPLES_PER_ROW,
    nearest: Array.from(nearest.index, (index, row) => ({
      row,
      train_index: index,
      squared_distance: nearest.distance[row],
    })),
    seconds: seconds(t0),
  };
}

/** z at t = 0, 1/(steps - 1), ..., 1 on the segment between each pair of `ends`, row after row. */
function interpolationNoise(ends: Float32Array, rows: number, steps: number, dim: number): Float32Array {
  const z = new Float32Array(rows * steps * dim);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let k = 0; k < dim; k++)
        z[(r * steps + s) * dim + k] = (1 - t) * ends[2 * r * dim + k] + t * ends[(2 * r + 1) * dim + k];
    }
  }
  return z;
}

/** Figure 3: G decoded along straight segments between independent draws of z; writes the PNG. */
export async function interpolationFigure(
  rt: Runtime,
  state: TrainingState,
  sampler: GeneratorSampler,
  seed: number,
  data: EvalData,
  png: string,
  checkpoint: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const ends = await drawNoise(rt, state.config, 2 * INTERPOLATION_ROWS, seed, EVAL_INTERPOLATION_PASS);
  const z = interpolationNoise(ends, INTERPOLATION_ROWS, INTERPOLATION_STEPS, state.config.noise.dim);
  // A conditional G keeps one class along each row (row r: class r), so the row shows z's path alone.
  const count = INTERPOLATION_ROWS * INTERPOLATION_STEPS;
  const rowClasses =
    sampler.classes > 0
      ? Uint32Array.from({ length: count }, (_, i) => Math.floor(i / INTERPOLATION_STEPS) % sampler.classes)
      : undefined;
  const images = await sampler.decode(z, count, rowClasses);
  checkFinite(images, checkpoint, data.features);
  atPath(png, () =>
    writeFileSync(
      png,
      imageGridPng(
        images,
        INTERPOLATION_ROWS * INTERPOLATION_STEPS,
        data.images.height,
        data.images.width,
        INTERPOLATION_STEPS,
        2,
        data.look,
      ),
    ),
  );
  return { png, rows: INTERPOLATION_ROWS, steps: INTERPOLATION_STEPS, seconds: seconds(t0) };
}
