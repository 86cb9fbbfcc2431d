// `gan export`: a checkpoint's model in another file. --weights writes G's and D's weights (and G's
// moving average) without the optimizer state and statistics: a third of an Adam run's checkpoint,
// for sharing a trained model (the pretrained models are such files). It samples, evaluates and
// opens in the page like a checkpoint, and refuses to be resumed.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { ConfigError } from '../train/config';
import { networkSpecs } from '../train/session';

export interface ExportFlags {
  checkpoint?: string;
  weights?: string;
}

export function exportModel(flags: ExportFlags): Record<string, unknown> {
  if (!flags.checkpoint) throw new ConfigError('--checkpoint FILE is needed (a run\'s checkpoint.safetensors).');
  if (!flags.weights) throw new ConfigError('--weights OUT is needed: the file to write.');
  if (resolve(flags.weights) === resolve(flags.checkpoint)) throw new ConfigError(`--weights ${flags.weights} is the checkpoint itself; write the weights to another file.`);
  const state = decodeCheckpoint(readCheckpointFile(flags.checkpoint), flags.checkpoint, networkSpecs);
  const bytes = encodeCheckpoint(state, networkSpecs(state.config), { weightsOnly: true });
  mkdirSync(dirname(flags.weights), { recursive: true });
  writeFileAtomic(flags.weights, bytes);
  return { checkpoint: flags.checkpoint, weights: flags.weights, bytes: bytes.length, iteration: state.iteration, preset: state.config.preset, moving_average: !!state.generator.average };
}

export function runExportCommand(flags: ExportFlags): void {
  console.log(JSON.stringify(exportModel(flags), null, 2));
}
