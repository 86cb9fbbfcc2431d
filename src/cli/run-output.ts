// What a training run leaves in its output directory, written the same way whether the trainer ran
// in Node or in a page driven through Playwright: config.json, metrics.jsonl (with the toys' `js`),
// samples-<iter>.png, checkpoint.safetensors (atomically), with `keepEvery` a weights-only
// model-<iter>.safetensors beside it (for `gan report`), and on the terminal a progress bar, or one
// plain line per log when the output is not a terminal.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { decodeCheckpoint, encodeCheckpoint, writeFileAtomic } from '../io/checkpoint';
import { densityPng, imageGridPng, scatterPng } from '../io/images';
import { atPath } from './fs-errors';
import { imageShape, type TrainConfig } from '../spec/config';
import type { ImageLook } from '../io/images';
import { metricsUpTo, type RunMetrics, type RunSink } from '../io/run';
import { networkSpecs, toyDivergence, type ToyData } from '../train/session';
import type { SampleBatch } from '../train/trainer';

/** How a run's images are drawn: their channels, and contrast-normalised data (CIFAR-10) scaled per image for display. */
export function imageLook(config: TrainConfig): ImageLook {
  return { channels: imageShape(config)?.channels ?? 1, display: config.data === 'cifar10' ? 'contrast' : 'clip' };
}

/** The picture of a sample batch: an image grid (grey or colour, at the config's shape), a 2-D scatter, or the 1-D densities with D(x). */
export function samplePng(toy: ToyData | undefined, batch: SampleBatch, config?: TrainConfig): Uint8Array {
  if (!toy) {
    const shape = (config && imageShape(config)) ?? { channels: 1, height: 28, width: 28 };
    return imageGridPng(batch.samples, batch.count, shape.height, shape.width, 10, 2, config ? imageLook(config) : {});
  }
  const { distribution, points } = toy;
  if (distribution.dims === 2)
    return scatterPng(points.subarray(0, 2000 * 2), batch.samples.subarray(0, 2000 * 2), distribution.bounds);
  return densityPng(points, batch.samples, distribution.bounds, batch.discriminatorCurve);
}

export class RunOutput implements RunSink {
  readonly metricsPath: string;
  readonly checkpointPath: string;
  private readonly divergences = new Map<number, number>();
  private readonly latest = { d_loss: '-', g_loss: '-', d_real: '-', d_fake: '-', speed: '-' };
  private bar?: cliProgress.SingleBar;
  /** The last samples PNG written, for the closing lines. */
  private lastSamples?: string;

  /** `toy`: the toy's data on the CPU (for `js` and the scatter), undefined for images. */
  constructor(
    readonly out: string,
    readonly config: TrainConfig,
    readonly toy: ToyData | undefined,
    readonly options: { keepEvery?: number } = {},
  ) {
    mkdirSync(out, { recursive: true });
    this.metricsPath = join(out, 'metrics.jsonl');
    this.checkpointPath = join(out, 'checkpoint.safetensors');
  }

  /** Writes config.json, trims the metrics of a resumed run, starts the progress display. */
  begin(iteration: number, adapterName: string, resumed: boolean): void {
    const { config } = this;
    writeFileAtomic(join(this.out, 'config.json'), new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
    keepMetricsUpTo(this.metricsPath, iteration, config.logEvery);
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format:
            '{bar} {value}/{total} | {speed} it/s | d_loss {d_loss} g_loss {g_loss} D(x) {d_real} D(G(z)) {d_fake}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(config.iterations, iteration, this.latest);
    }
    console.log(
      `${resumed ? `Resuming at iteration ${iteration}` : 'Training'}: preset ${config.preset} on ${adapterName}, ${config.iterations} iterations, output in ${this.out}`,
    );
  }

  samples(batch: SampleBatch): void {
    if (this.toy) this.divergences.set(batch.iter, toyDivergence({ toy: this.toy }, batch.samples)!);
    if (batch.iter % this.config.sampleEvery === 0 || batch.iter === this.config.iterations) {
      const png = join(this.out, `samples-${batch.iter}.png`);
      atPath(png, () => writeFileSync(png, samplePng(this.toy, batch, this.config)));
      this.lastSamples = png;
    }
  }

  metrics(record: RunMetrics): void {
    const js = this.divergences.get(record.iter);
    this.divergences.delete(record.iter);
    // Adam's beta1 sits in the momentum slot of the optimizer's uniform, but it is a constant of the
    // rule, not a schedule: only SGD's momentum is reported.
    const sgd = this.config.optimizer.kind !== 'adam';
    const { momentum, ...rest } = record;
    const line = { ...rest, ...(sgd ? { momentum } : {}), ...(js !== undefined ? { js } : {}) };
    atPath(this.metricsPath, () => appendFileSync(this.metricsPath, JSON.stringify(line) + '\n'));
    const fixed = (v: number) => v.toFixed(3);
    Object.assign(this.latest, {
      d_loss: fixed(record.d_loss),
      g_loss: fixed(record.g_loss),
      d_real: fixed(record.d_real),
      d_fake: fixed(record.d_fake),
      speed: record.its_per_s.toFixed(2),
    });
    if (!this.bar) {
      const { latest } = this;
      const divergence = js !== undefined ? ` js ${js.toFixed(4)}` : '';
      console.log(
        `iter ${record.iter}/${this.config.iterations} d_loss ${latest.d_loss} g_loss ${latest.g_loss} D(x) ${latest.d_real} D(G(z)) ${latest.d_fake}${divergence} lr ${record.lr.toPrecision(4)}${sgd ? ` momentum ${momentum.toFixed(3)}` : ''} ${latest.speed} it/s`,
      );
    }
  }

  window(iteration: number): void {
    this.bar?.update(iteration, this.latest);
  }

  checkpoint(bytes: Uint8Array, iteration: number): void {
    writeFileAtomic(this.checkpointPath, bytes);
    const { keepEvery } = this.options;
    if (!keepEvery || iteration % keepEvery !== 0) return;
    const state = decodeCheckpoint(bytes, this.checkpointPath, networkSpecs);
    writeFileAtomic(
      join(this.out, `model-${iteration}.safetensors`),
      encodeCheckpoint(state, networkSpecs(state.config), { weightsOnly: true }),
    );
  }

  /** Stops the progress bar; call on every exit, error or not. */
  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** The closing lines (stdout): where the checkpoint and the samples are, and the command that evaluates the model (or continues a stopped run). */
  end(iteration: number, stopped: boolean): void {
    this.close();
    console.log(`${stopped ? 'Stopped' : 'Done'} at iteration ${iteration}. Checkpoint: ${this.checkpointPath}`);
    console.log(
      this.lastSamples
        ? `Samples: ${this.lastSamples} (every ${this.config.sampleEvery} iterations: ${join(this.out, 'samples-<iter>.png')})`
        : `Samples: none written yet (every ${this.config.sampleEvery} iterations, in ${this.out})`,
    );
    if (stopped) console.log(`Continue: npm run train -- --resume ${this.checkpointPath} --out ${this.out}`);
    // The evaluation measures image models; a toy's measure is the js column of its metrics.
    if (this.toy) console.log(`Divergence from the data: the js column of ${this.metricsPath}`);
    else console.log(`Evaluate: npm run eval -- --checkpoint ${this.checkpointPath} --parzen --score`);
  }
}

/** A resumed run continues the metrics file (src/io/run.ts metricsUpTo says which lines stay). */
function keepMetricsUpTo(path: string, iteration: number, logEvery: number): void {
  if (!existsSync(path)) return;
  // Rewritten whole or not at all: a full disk must not cost the lines already logged.
  writeFileAtomic(
    path,
    new TextEncoder().encode(iteration === 0 ? '' : metricsUpTo(readFileSync(path, 'utf8'), iteration, logEvery)),
  );
}
