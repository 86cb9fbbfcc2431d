// A network as a PyTorch state dict in a safetensors file: one `nn.Linear` per layer, in an
// `nn.Sequential`, so `load_state_dict(strict=True)` takes it as it is (docs/export.md: "Take a model
// elsewhere" has the module). No file system, so the pages can offer the same file.
//
// PyTorch keeps a Linear's weight as [out, in]; ours is [in, out] with maxout columns
// piece * units + unit. The export writes maxout rows unit * pieces + piece, the layout of the usual
// PyTorch (and pylearn2) maxout, `linear(x).view(-1, units, pieces).amax(-1)`, so the module is
// the idiom rather than one made to fit our kernels. A conditional network's first Linear takes the
// one-hot class after the input, torch.cat([x, one_hot], 1): its weight's last `classes` columns are
// the class rows.
import { biasName, parameterLayout, view } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import type { TrainingState } from '../spec/state';
import { exportedNetwork, exportedWeight, type ExportChoice, type Player } from './model-export';
import { encodeSafetensors, type NamedTensor } from './safetensors';

/** The export's tensor names: `nn.Sequential` of one Linear per layer. */
export function torchNames(layer: number): { weight: string; bias: string } {
  return { weight: `${layer}.weight`, bias: `${layer}.bias` };
}

/** The layers' weights in PyTorch's shapes, named as an `nn.Sequential` of Linears names them. */
export function networkToTorchTensors(spec: NetworkSpec, params: Float32Array): Record<string, NamedTensor> {
  const layout = parameterLayout(spec);
  if (params.length !== layout.totalFloats)
    throw new Error(`${spec.name}: ${params.length} parameters given, the layout has ${layout.totalFloats}`);
  const tensors: Record<string, NamedTensor> = {};
  spec.layers.forEach((layer, l) => {
    const { weight: w, inputs } = exportedWeight(spec, params, l);
    const { units, pieces } = layer;
    const width = units * pieces;
    const b = view(params, layout, biasName(spec, l));
    const weight = new Float32Array(width * inputs);
    const bias = new Float32Array(width);
    for (let u = 0; u < units; u++) {
      for (let p = 0; p < pieces; p++) {
        const ours = p * units + u;
        const theirs = u * pieces + p;
        bias[theirs] = b[ours];
        for (let k = 0; k < inputs; k++) weight[theirs * inputs + k] = w[k * width + ours];
      }
    }
    const names = torchNames(l);
    tensors[names.weight] = { dtype: 'F32', shape: [width, inputs], data: weight };
    tensors[names.bias] = { dtype: 'F32', shape: [width], data: bias };
  });
  return tensors;
}

/**
 * A checkpoint's G (its moving average unless `rawGenerator`) or D as a PyTorch safetensors file.
 * The metadata's `network` is the layer list the module in docs/export.md is built from.
 */
export function checkpointToPytorch(state: TrainingState, player: Player, choice: ExportChoice = {}): Uint8Array {
  const { spec, params, metadata } = exportedNetwork(state, player, choice);
  return encodeSafetensors(networkToTorchTensors(spec, params), {
    format: 'pt',
    maxout_layout: 'rows unit * pieces + piece: .view(-1, units, pieces).amax(-1)',
    ...metadata,
  });
}
