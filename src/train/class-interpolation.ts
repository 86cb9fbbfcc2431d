// The interpolation between two classes at fixed z (the page's strip), for a conditional G: `steps`
// rows of one fixed-noise sample's z, whose one-hot class goes in a straight line from one class to
// another. G's first layer sees (1 - t) E[from] + t E[to], the rows of the class rows that mixture of
// one-hots picks. Built on first use by ./sampling.ts, for each generator that can be shown.
import { denseForward } from '../kernels/dense';
import { classWeightName } from '../nn/layout';
import { GpuPass } from '../nn/mlp';
import { FIXED_NOISE_PASS, GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import type { GeneratorRun, ShownGenerator, TrainingNetworks } from './networks';

export class ClassInterpolation {
  private constructor(
    private readonly nets: TrainingNetworks,
    readonly steps: number,
    /** The one z, repeated on every row. */
    private readonly z: GPUBuffer,
    /** (steps, classes): row i the mixture of the two one-hots at t = i / (steps - 1). */
    private readonly mix: GPUBuffer,
    private readonly runs: Map<ShownGenerator, GeneratorRun>,
    private readonly owned: { destroy(): void }[],
  ) {}

  /** Its buffers, pipelines and bind groups, for every generator that can be shown. */
  static async build(nets: TrainingNetworks, steps: number): Promise<ClassInterpolation> {
    const { rt, clock, config } = nets;
    const classes = config.classes;
    const owned: { destroy(): void }[] = [];
    const make = (label: string, floats: number) => {
      const b = rt.createBuffer(label, floats * 4);
      owned.push(b);
      return b;
    };
    const first = nets.generator.spec.layers[0];
    const width = first.units * first.pieces;
    const z = make('class_interpolation.z', steps * config.noise.dim);
    const mix = make('class_interpolation.mix', steps * classes);
    const zeros = make('class_interpolation.zeros', width);
    const rows = make('class_interpolation.rows', steps * width);
    const labels = rt.upload(
      'class_interpolation.labels',
      Uint32Array.from({ length: steps }, (_, i) => i),
    );
    owned.push(labels);
    const runs = new Map<ShownGenerator, GeneratorRun>();
    for (const [shown, network] of nets.shownGenerators) {
      // The mixed class rows, (steps, width) = mix (steps, classes) x E (classes, width): the dense
      // product itself, with an identity activation and a zero bias.
      const mixRows = await denseForward(
        rt,
        clock,
        { batch: steps, inFeatures: classes, units: width, pieces: 1, activation: 'identity' },
        {
          x: mix,
          weight: network.range(network.params, classWeightName(network.spec)),
          bias: zeros,
          y: rows,
        },
      );
      const g = GpuPass.create(
        network,
        clock,
        steps,
        z,
        { seed: config.seed, sub: FIXED_NOISE_PASS, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
        `class_interpolation.${network.spec.name}`,
        { labels, rows: { buffer: rows, count: steps } },
      );
      owned.push(g);
      runs.set(shown, { dispatches: [...mixRows, ...(await g.forward())], output: g.output });
    }
    return new ClassInterpolation(nets, steps, z, mix, runs, owned);
  }

  /** From class `from` to `to` (checked by the caller) on the z of row `sample` of `fixedNoise`: rewrites two small buffers. */
  set(from: number, to: number, fixedNoise: GPUBuffer, sample: number): void {
    const { rt, config } = this.nets;
    const { steps } = this;
    const classes = config.classes;
    const mix = new Float32Array(steps * classes);
    for (let i = 0; i < steps; i++) {
      const t = i / (steps - 1);
      mix[i * classes + from] += 1 - t;
      mix[i * classes + to] += t;
    }
    rt.device.queue.writeBuffer(this.mix, 0, mix);
    const dim = config.noise.dim;
    const encoder = rt.device.createCommandEncoder({ label: 'class_interpolation.z' });
    for (let i = 0; i < steps; i++)
      encoder.copyBufferToBuffer(fixedNoise, sample * dim * 4, this.z, i * dim * 4, dim * 4);
    rt.device.queue.submit([encoder.finish()]);
  }

  /** The dispatches and output, (steps, features), of one generator's strip. */
  run(shown: ShownGenerator): GeneratorRun {
    return this.runs.get(shown)!;
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
  }
}
