// What a run is at one iteration, as the trainer reads and loads it and a checkpoint stores it.
import type { TrainConfig } from './config';

/**
 * Everything a run needs to continue: flat buffers laid out by each network's layout table. A
 * weights-only file (`gan export --weights`, the pretrained models) has no optimizer state (empty
 * `optimizer` arrays) and no statistics: it is sampled, evaluated and opened in the page, not resumed.
 */
export interface TrainingState {
  config: TrainConfig;
  iteration: number;
  /** `average`: the moving average of G's weights, when the config keeps one (emaDecay > 0). */
  generator: { params: Float32Array; optimizer: Float32Array[]; average?: Float32Array };
  discriminator: { params: Float32Array; optimizer: Float32Array[] };
  /** The loss statistics accumulated since the last log (GAN_STATS layout); empty in a weights-only file. */
  stats: Float32Array;
  weightsOnly?: boolean;
  /** A file of G's weights alone (`gan export --generator-only`): `discriminator.params` is empty. */
  generatorOnly?: boolean;
  /** The inference net E: x -> z trained for this G (`gan train-encoder`; src/spec/encoder.ts), when there is one. */
  encoder?: { hidden: number[]; params: Float32Array };
}
