// `gan train-encoder`: trains the inference net E: x -> z (src/eval/encoder.ts) for a checkpoint's
// G (its moving average where the run keeps one, the G that `gan eval` measures) and writes a
// checkpoint holding G, D and E; `gan eval --reconstruct` measures it. Prints one JSON object.
import { basename, dirname, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { acquireDevice, limitsForBuffers } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { parameterLayout } from '../nn/layout';
import { dataFeatures, generatorSpec, isConditional, isToyData } from '../spec/config';
import { DEFAULT_ENCODER, encoderLoss, encoderSpec } from '../spec/encoder';
import { ConfigError } from '../train/config';
import { networkSpecs } from '../train/session';
import { generatorModel, trainEncoder } from '../eval/encoder';
import { checkOutput } from './export';
import { atPath } from './fs-errors';

export interface EncoderFlags {
  checkpoint?: string;
  iters?: number;
  out?: string;
  seed?: number;
  pixelWeight?: number;
  adapter?: string;
}

/** `run/checkpoint.safetensors` -> `run/checkpoint.encoder.safetensors`. */
export function encoderPath(checkpoint: string): string {
  const ext = extname(checkpoint);
  return join(dirname(checkpoint), `${basename(checkpoint, ext)}.encoder${ext}`);
}

export async function runEncoderCommand(flags: EncoderFlags): Promise<void> {
  if (!flags.checkpoint) throw new ConfigError("--checkpoint FILE is needed (a run's checkpoint.safetensors).");
  const file = flags.checkpoint;
  const out = flags.out ?? encoderPath(file);
  checkOutput('--out', out, file);
  const state = decodeCheckpoint(readCheckpointFile(file), file, networkSpecs);
  const { config } = state;
  if (isToyData(config.data))
    throw new ConfigError(
      `${file}: the model was trained on the toy '${config.data}'; the encoder is for image models (preset ${config.preset} is not one).`,
    );
  if (isConditional(config))
    throw new ConfigError(
      `${file}: preset ${config.preset} is a conditional GAN; the encoder predicts z alone, so it is trained for unconditional models only.`,
    );
  const encoder = {
    ...DEFAULT_ENCODER,
    iterations: flags.iters ?? DEFAULT_ENCODER.iterations,
    seed: flags.seed ?? DEFAULT_ENCODER.seed,
    pixelWeight: flags.pixelWeight ?? DEFAULT_ENCODER.pixelWeight,
  };
  const encoderFloats = parameterLayout(
    encoderSpec(dataFeatures(config), encoder.hidden, config.noise.dim),
  ).totalFloats;
  const generatorFloats = parameterLayout(generatorSpec(config)).totalFloats;
  const context = await acquireDevice({
    adapter: flags.adapter,
    requiredLimits: limitsForBuffers([
      { name: 'generator.params', bytes: generatorFloats * 4 },
      { name: 'encoder.params', bytes: encoderFloats * 4 },
    ]),
  });
  const started = performance.now();
  const generator = state.generator.average ?? state.generator.params;
  let trained;
  try {
    const rt = new Runtime(context);
    const every = Math.max(1000, Math.ceil(encoder.iterations / 10 / 100) * 100);
    trained = await trainEncoder(rt, generatorModel(config, generator), encoder, (i) => {
      if (i % every === 0 || i === encoder.iterations)
        console.error(
          `encoder: iteration ${i} of ${encoder.iterations}, ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
    });
  } finally {
    context.device.destroy();
  }
  atPath(out, () =>
    writeFileAtomic(
      out,
      encodeCheckpoint({ ...state, encoder: { hidden: encoder.hidden, params: trained.params } }, networkSpecs(config)),
    ),
  );
  const report = {
    checkpoint: file,
    out,
    generator: state.generator.average ? 'average' : 'raw',
    adapter: context.adapterName,
    encoder: {
      hidden: encoder.hidden,
      iterations: encoder.iterations,
      batch: encoder.batch,
      lr: encoder.lr,
      seed: encoder.seed,
      loss: encoderLoss(encoder),
    },
    // Mean squared error per dimension of E(G(z)) against fresh z (p_z's own variance: 1/3 for uniform on [-1, 1]).
    z_mse: trained.zMse,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  console.log(JSON.stringify(report, null, 2));
}
