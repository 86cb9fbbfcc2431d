// Which weights leave for another framework, and what the exported files say about themselves. Shared
// by the ONNX and PyTorch exports; no file system, so the pages use it as the command line does.
import { discriminatorSpec, generatorSpec } from '../spec/config';
import type { NetworkSpec } from '../spec/network';
import { classWeightName, layerInputs, networkClasses, parameterLayout, view, weightName } from '../nn/layout';
import type { TrainingState } from '../spec/state';
import { CheckpointError } from './safetensors';

export type Player = 'generator' | 'discriminator';

export interface ExportChoice {
  /** G's own weights instead of their moving average (when the checkpoint keeps one), as `gan eval --raw-generator`. */
  rawGenerator?: boolean;
}

export interface ExportedNetwork {
  spec: NetworkSpec;
  /** Laid out by the network's layout table (src/nn/layout.ts). */
  params: Float32Array;
  /** For G: which weights these are ('average' when the checkpoint keeps one, unless raw was asked for). */
  weights?: 'average' | 'raw';
  /** String metadata for the exported file: enough to rebuild the network and feed it. */
  metadata: Record<string, string>;
}

export function exportedNetwork(state: TrainingState, player: Player, choice: ExportChoice = {}): ExportedNetwork {
  const { config } = state;
  if (player === 'discriminator' && state.generatorOnly)
    throw new CheckpointError(
      `the model (${config.preset}, iteration ${state.iteration}) holds G's weights only; export D from a checkpoint or a weights file that holds it.`,
    );
  const spec = player === 'generator' ? generatorSpec(config) : discriminatorSpec(config);
  const average = player === 'generator' && !choice.rawGenerator ? state.generator.average : undefined;
  const params = player === 'generator' ? (average ?? state.generator.params) : state.discriminator.params;
  const weights = player === 'generator' ? (average ? 'average' : 'raw') : undefined;
  const metadata: Record<string, string> = {
    network: JSON.stringify(spec),
    preset: config.preset,
    iteration: String(state.iteration),
    ...(weights && { weights }),
    // What G's input is drawn from: the model means nothing without it.
    ...(player === 'generator' && { noise: JSON.stringify(config.noise) }),
    data: config.data,
  };
  return { spec, params, weights, metadata };
}

/**
 * Layer `l`'s weight as the export writes it: ours, and for a conditional network's first layer the
 * class rows below it, the rows a one-hot class appended to the input meets: [in + classes, width].
 */
export function exportedWeight(
  spec: NetworkSpec,
  params: Float32Array,
  l: number,
): { weight: Float32Array; inputs: number } {
  const layout = parameterLayout(spec);
  const w = view(params, layout, weightName(spec, l));
  const classes = l === 0 ? networkClasses(spec) : 0;
  if (classes === 0) return { weight: w, inputs: layerInputs(spec, l) };
  const weight = new Float32Array(w.length + classes * (w.length / layerInputs(spec, l)));
  weight.set(w);
  weight.set(view(params, layout, classWeightName(spec)), w.length);
  return { weight, inputs: layerInputs(spec, l) + classes };
}
