// What a network is, for every side that builds, runs, checks or stores one: the activations with
// the codes the dense kernels read as override constants, a layer's shape, and the layer and network
// specs that presets write and the layout table (src/nn/layout.ts) turns into tensors.

export type Activation = 'identity' | 'relu' | 'sigmoid' | 'maxout';

export const ACTIVATION_CODE: Record<Activation, number> = { identity: 0, relu: 1, sigmoid: 2, maxout: 3 };

export interface DenseShape {
  batch: number;
  inFeatures: number;
  units: number;
  /** Maxout pieces per unit; 1 for the other activations. */
  pieces: number;
  activation: Activation;
}

export interface DropoutConfig {
  /** Include probability of each input element. */
  keep: number;
  /** Multiplier of kept elements (1 / keep for inverted dropout). */
  scale: number;
}

export interface LayerSpec {
  units: number;
  activation: Activation;
  /** Maxout pieces per unit (1 unless activation is maxout). */
  pieces: number;
  /**
   * The layer sees scale * x + shift instead of its input x (before any dropout): D's first layer
   * sees MNIST's [0, 1] pixels on [-1, 1], so the background, 0 in the data, carries weight in
   * D's gradients.
   */
  inputMap?: InputMapConfig;
  /** Dropout on this layer's input. */
  dropout?: DropoutConfig;
}

export interface InputMapConfig {
  scale: number;
  shift: number;
}

export interface NetworkSpec {
  /** Prefix of the tensor names: 'generator' or 'discriminator'. */
  name: string;
  inputFeatures: number;
  layers: LayerSpec[];
  /**
   * Classes of a conditional network (Mirza and Osindero, 2014); absent or 0: unconditional. The
   * first layer then sees a one-hot class beside its input, stored as the per-class rows of its
   * product: y = act(x W + E[c] + b), E the tensor `<name>.0.class_weight` (classes, width).
   */
  classes?: number;
}

/** How a plain MLP of hidden ReLU layers is trained by Adam on the GPU: the --score classifier, the encoder E. */
export interface MlpTrainingConfig {
  /** Hidden ReLU layers' widths (the output layer is the model's own). */
  hidden: number[];
  iterations: number;
  batch: number;
  /** Adam's learning rate (beta1 0.9, beta2 0.999). */
  lr: number;
  /** Weights uniform in [-initRange, initRange], biases zero. */
  initRange: number;
  seed: number;
}
