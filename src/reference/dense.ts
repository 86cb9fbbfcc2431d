// CPU twin of shaders/dense.forward.wgsl and shaders/dense.backward.wgsl: plain loops, the oracle
// the kernels are tested against. Generic over Float32Array and Float64Array so that the gradient
// check can run the same code in double precision.
import type { Activation, DenseShape } from '../spec/network';
import { drawBits, keepFromBits, keepThreshold, type RngKey } from '../spec/rng';

export type Vec = Float32Array | Float64Array;

export interface DropoutSpec {
  /** Include probability (the paper: 0.8 on D's input, 0.5 elsewhere in D). */
  keep: number;
  /** Multiplier of the kept inputs (the paper: 1.25 and 2.0, i.e. 1 / keep). */
  scale: number;
  /**
   * Added to the kept inputs after scaling, so that with `scale` the layer sees an affine map of its
   * input (see inputTransform in ./mlp); dropped inputs stay 0. Default 0.
   */
  shift?: number;
  rng: RngKey;
}

function like<T extends Vec>(a: T, n: number): T {
  return (a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as T;
}

export function activate(z: number, activation: Activation): number {
  switch (activation) {
    case 'relu':
      return z > 0 ? z : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    default:
      return z;
  }
}

/** d act / d z in terms of y = act(z). */
export function activationSlope(y: number, activation: Activation): number {
  switch (activation) {
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'sigmoid':
      return y * (1 - y);
    default:
      return 1;
  }
}

/** The dropout mask of a (batch, features) input: true where the element is kept. */
export function dropoutMask(batch: number, features: number, dropout: DropoutSpec): Uint8Array {
  const keep24 = keepThreshold(dropout.keep);
  const mask = new Uint8Array(batch * features);
  const bits = new Uint32Array(4);
  for (let row = 0; row < batch; row++) {
    for (let col = 0; col < features; col += 4) {
      drawBits(dropout.rng, row, col, bits);
      for (let c = 0; c < 4 && col + c < features; c++)
        mask[row * features + col + c] = keepFromBits(bits[c], keep24) ? 1 : 0;
    }
  }
  return mask;
}

export function dropoutForward<T extends Vec>(x: T, batch: number, features: number, dropout: DropoutSpec): T {
  const mask = dropoutMask(batch, features, dropout);
  const out = like(x, batch * features);
  // In float32 the scale and shift are the kernel's f32 params, and the product is rounded before
  // the shift is added, as the kernel's two operations are (unless its compiler fuses them).
  const round = x instanceof Float32Array ? Math.fround : (v: number) => v;
  const [scale, shift] = [round(dropout.scale), round(dropout.shift ?? 0)];
  for (let i = 0; i < out.length; i++) out[i] = mask[i] ? round(x[i] * scale) + shift : 0;
  return out;
}

export interface DenseForwardResult<T extends Vec> {
  y: T;
  /** Maxout only: the index of the winning piece of each output. */
  winner?: Uint32Array;
  /** The pre-activation x W + b, (batch, units * pieces): lets tests tell a near-tie of pieces. */
  preactivation: T;
}

/**
 * A conditional layer's class term: row b adds row labels[b] of `weight` (classes, units * pieces),
 * which is what a one-hot class beside the input contributes through its rows of the layer's weight.
 */
export interface ClassTerm<T extends Vec> {
  weight: T;
  labels: Uint32Array;
}

/**
 * y = act(x W + E[c] + b), W (inFeatures, units * pieces) with column piece * units + unit, E[c] the
 * class term's row for the row's class (absent: none), added in that order as the kernel's tail does.
 */
export function denseForward<T extends Vec>(
  x: T,
  weight: T,
  bias: T,
  shape: DenseShape,
  classTerm?: ClassTerm<T>,
): DenseForwardResult<T> {
  const { batch, inFeatures, units, pieces, activation } = shape;
  const width = units * pieces;
  const y = like(x, batch * units);
  const winner = activation === 'maxout' ? new Uint32Array(batch * units) : undefined;
  const preactivation = like(x, batch * width);
  for (let b = 0; b < batch; b++) {
    const z = preactivation.subarray(b * width, (b + 1) * width);
    for (let n = 0; n < width; n++) {
      let sum = 0;
      for (let k = 0; k < inFeatures; k++) sum += x[b * inFeatures + k] * weight[k * width + n];
      if (classTerm) sum += classTerm.weight[classTerm.labels[b] * width + n];
      z[n] = sum + bias[n];
    }
    for (let u = 0; u < units; u++) {
      if (winner) {
        let best = z[u];
        let piece = 0;
        for (let p = 1; p < pieces; p++) {
          if (z[p * units + u] > best) {
            best = z[p * units + u];
            piece = p;
          }
        }
        y[b * units + u] = best;
        winner[b * units + u] = piece;
      } else {
        y[b * units + u] = activate(z[u], activation);
      }
    }
  }
  return { y, winner, preactivation };
}

/** What the backward pass needs from the forward pass. */
export type SavedActivation<T extends Vec> = Pick<DenseForwardResult<T>, 'y' | 'winner'>;

/**
 * The gradient with respect to the pre-activation z (batch, units * pieces), from dL/dy and what the
 * forward pass kept: y for the elementwise activations, the winning piece for maxout.
 */
export function preactivationGrad<T extends Vec>(dy: T, saved: SavedActivation<T>, shape: DenseShape): T {
  const { batch, units, pieces, activation } = shape;
  const width = units * pieces;
  const dz = like(dy, batch * width);
  for (let b = 0; b < batch; b++) {
    for (let u = 0; u < units; u++) {
      const i = b * units + u;
      if (saved.winner) dz[b * width + saved.winner[i] * units + u] = dy[i];
      else dz[b * width + u] = dy[i] * activationSlope(saved.y[i], activation);
    }
  }
  return dz;
}

/** dx = (dz W^T) * mask * scale, where dropout applied to the layer's input. */
export function denseGradInput<T extends Vec>(
  dy: T,
  saved: SavedActivation<T>,
  weight: T,
  shape: DenseShape,
  dropout?: DropoutSpec,
): T {
  const { batch, inFeatures, units, pieces } = shape;
  const width = units * pieces;
  const dz = preactivationGrad(dy, saved, shape);
  const dx = like(dy, batch * inFeatures);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < inFeatures; k++) {
      let sum = 0;
      for (let n = 0; n < width; n++) sum += dz[b * width + n] * weight[k * width + n];
      dx[b * inFeatures + k] = sum;
    }
  }
  if (dropout) {
    const mask = dropoutMask(batch, inFeatures, dropout);
    for (let i = 0; i < dx.length; i++) dx[i] = mask[i] ? dx[i] * dropout.scale : 0;
  }
  return dx;
}

/** dW = x^T dz (x being the input after dropout), plus the old dW when accumulating. */
export function denseGradWeight<T extends Vec>(
  x: T,
  dy: T,
  saved: SavedActivation<T>,
  shape: DenseShape,
  accumulateInto?: T,
): T {
  const { batch, inFeatures, units, pieces } = shape;
  const width = units * pieces;
  const dz = preactivationGrad(dy, saved, shape);
  const dw = accumulateInto ? (accumulateInto.slice() as T) : like(dy, inFeatures * width);
  for (let k = 0; k < inFeatures; k++) {
    for (let n = 0; n < width; n++) {
      let sum = 0;
      for (let b = 0; b < batch; b++) sum += x[b * inFeatures + k] * dz[b * width + n];
      dw[k * width + n] += sum;
    }
  }
  return dw;
}

/** db = sum over the batch of dz, plus the old db when accumulating. */
export function denseGradBias<T extends Vec>(
  dy: T,
  saved: SavedActivation<T>,
  shape: DenseShape,
  accumulateInto?: T,
): T {
  const { batch, units, pieces } = shape;
  const width = units * pieces;
  const dz = preactivationGrad(dy, saved, shape);
  const db = accumulateInto ? (accumulateInto.slice() as T) : like(dy, width);
  for (let n = 0; n < width; n++) {
    let sum = 0;
    for (let b = 0; b < batch; b++) sum += dz[b * width + n];
    db[n] += sum;
  }
  return db;
}

/**
 * dE = the per-class sums of dz over the rows of that class: dE[c, n] = sum over b with labels[b] = c
 * of dz[b, n] (a one-hot input's rows of x^T dz), plus the old dE when accumulating.
 */
export function denseGradClass<T extends Vec>(
  dy: T,
  saved: SavedActivation<T>,
  shape: DenseShape,
  labels: Uint32Array,
  classes: number,
  accumulateInto?: T,
): T {
  const { batch, units, pieces } = shape;
  const width = units * pieces;
  const dz = preactivationGrad(dy, saved, shape);
  const de = accumulateInto ? (accumulateInto.slice() as T) : like(dy, classes * width);
  for (let c = 0; c < classes; c++) {
    for (let n = 0; n < width; n++) {
      let sum = 0;
      for (let b = 0; b < batch; b++) if (labels[b] === c) sum += dz[b * width + n];
      de[c * width + n] += sum;
    }
  }
  return de;
}
