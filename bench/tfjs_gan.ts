// The peer: the same GAN written the way a TF.js user would write it, on TF.js's WebGPU backend
// running in Node on Dawn (the `webgpu` package), so both systems share the adapter.
//
// One iteration is Algorithm 1's alternating form with k = 1, as the Trainer's: a D step on a real
// and a fake batch (fresh noise, a minibatch), then a G step with fresh noise through D. The model is
// the config's (paper-mnist: G 100 -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid; D maxout 240x5 -> maxout
// 240x5 -> 1 with dropout, include .8 on the input, .5 after): D's input map (small-mnist's D sees
// the pixels on [-1, 1]), losses BCE on logits (softplus), G's non-saturating, SGD with momentum or
// Adam as the config says, and the moving average of G's weights when the config keeps one;
// gradients with optimizer.minimize over each player's variables. A maxout layer's product has its
// columns piece-major, as ours, so the max is over axis 1 of (batch, pieces, units).
//
// What TF.js does its own way, because that is how it is used: the noise and the dropout masks are
// drawn on the CPU and uploaded (tf.randomUniform, tf.dropout), and the minibatch is assembled on the
// CPU from the byte images and uploaded each step.
import type * as Tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../src/spec/config';

/** Dawn aborts the process when the object returned by create() is garbage-collected: keep it. */
let dawnForTfjs: GPU | undefined;

export interface TfjsGan {
  /** TF.js's backend name and the adapter it runs on. */
  backend: string;
  adapter: string;
  /** Records one iteration (TF.js submits as it goes). */
  step(): void;
  /** Waits until everything recorded so far has run (reads G's loss back). */
  sync(): Promise<number>;
  dispose(): void;
}

/** Loads TF.js with its WebGPU backend on a Dawn instance of its own, as `navigator.gpu`. */
async function loadTfjsWebgpu(): Promise<typeof Tf> {
  if (!dawnForTfjs) {
    const dawn = (await import('webgpu')) as { create(options: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    dawnForTfjs = dawn.create([]);
    // The backend registers itself at import time only when navigator.gpu exists.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawnForTfjs }, configurable: true, writable: true });
  }
  const tf = (await import('@tensorflow/tfjs')) as typeof Tf;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend on this adapter');
  await tf.ready();
  return tf;
}

function describeTfjsAdapter(tf: typeof Tf): string {
  const info = (
    tf.backend() as unknown as {
      adapterInfo?: { vendor?: string; architecture?: string; device?: string; description?: string };
    }
  ).adapterInfo;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => !!s);
  return parts.length ? parts.join(' ') : 'unknown';
}

export async function createTfjsGan(
  config: TrainConfig,
  images: { pixels: Uint8Array; count: number; features: number },
): Promise<TfjsGan> {
  const tf = await loadTfjsWebgpu();
  const { batch } = config;
  const noiseDim = config.noise.dim;
  const { low, high } = config.noise;
  const features = images.features;

  const layer = (inputs: number, outputs: number, range: number, name: string) => ({
    w: tf.variable(tf.randomUniform([inputs, outputs], -range, range), true, `${name}.w`),
    b: tf.variable(tf.zeros([outputs]), true, `${name}.b`),
  });
  const gRange = config.generator.initRange;
  const dRange = config.discriminator.initRange;
  const gLayers = config.generator.layers;
  const dLayers = config.discriminator.layers;
  let inputs = noiseDim;
  const g = gLayers.map((l, i) => {
    const made = layer(inputs, l.units * l.pieces, gRange, `g${i}`);
    inputs = l.units;
    return made;
  });
  inputs = features;
  const d = dLayers.map((l, i) => {
    const made = layer(inputs, l.units * l.pieces, dRange, `d${i}`);
    inputs = l.units;
    return made;
  });
  const gVars = g.flatMap((l) => [l.w, l.b]);
  const dVars = d.flatMap((l) => [l.w, l.b]);
  const { kind, lr, momentumStart, beta1, beta2, epsilon, generatorLrScale } = config.optimizer;
  const makeOptimizer = (rate: number) =>
    kind === 'adam' ? tf.train.adam(rate, beta1, beta2, epsilon) : tf.train.momentum(rate, momentumStart);
  const gOptimizer = makeOptimizer(lr * generatorLrScale);
  const dOptimizer = makeOptimizer(lr);
  const decay = config.emaDecay;
  const average = decay > 0 ? gVars.map((v) => tf.variable(v.clone(), false, `${v.name}.average`)) : [];

  const activate = (z: Tf.Tensor2D, activation: string, units: number, pieces: number): Tf.Tensor2D => {
    switch (activation) {
      case 'relu':
        return tf.relu(z);
      case 'sigmoid':
        return tf.sigmoid(z);
      case 'maxout':
        return tf.max(tf.reshape(z, [z.shape[0], pieces, units]), 1) as Tf.Tensor2D;
      default:
        return z;
    }
  };
  const generator = (z: Tf.Tensor2D): Tf.Tensor2D =>
    gLayers.reduce((x, l, i) => activate(tf.add(tf.matMul(x, g[i].w), g[i].b), l.activation, l.units, l.pieces), z);
  const discriminator = (x: Tf.Tensor2D): Tf.Tensor2D =>
    dLayers.reduce((h, l, i) => {
      const mapped = l.inputMap ? (tf.add(tf.mul(h, l.inputMap.scale), l.inputMap.shift) as Tf.Tensor2D) : h;
      const kept = l.dropout ? (tf.dropout(mapped, 1 - l.dropout.keep) as Tf.Tensor2D) : mapped;
      return activate(tf.add(tf.matMul(kept, d[i].w), d[i].b), l.activation, l.units, l.pieces);
    }, x);

  const noise = () => tf.randomUniform([batch, noiseDim], low, high) as Tf.Tensor2D;
  const staging = new Float32Array(batch * features);
  const minibatch = () => {
    for (let r = 0; r < batch; r++) {
      const row = Math.floor(Math.random() * images.count) * features;
      for (let c = 0; c < features; c++) staging[r * features + c] = images.pixels[row + c] / 255;
    }
    return tf.tensor2d(staging, [batch, features]);
  };
  // BCE on logits: -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l).
  const realLoss = (logits: Tf.Tensor) => tf.mean(tf.softplus(tf.neg(logits)));
  const fakeLoss = (logits: Tf.Tensor) => tf.mean(tf.softplus(logits));

  let lastCost: Tf.Scalar | null = null;
  return {
    backend: tf.getBackend(),
    adapter: describeTfjsAdapter(tf),
    step() {
      tf.tidy(() => {
        const x = minibatch();
        const fake = generator(noise());
        dOptimizer.minimize(
          () => tf.add(realLoss(discriminator(x)), fakeLoss(discriminator(fake))) as Tf.Scalar,
          false,
          dVars,
        );
      });
      const cost = tf.tidy(() => {
        const z = noise();
        return gOptimizer.minimize(() => realLoss(discriminator(generator(z))) as Tf.Scalar, true, gVars) as Tf.Scalar;
      });
      if (average.length)
        tf.tidy(() => average.forEach((a, i) => a.assign(tf.add(tf.mul(a, decay), tf.mul(gVars[i], 1 - decay)))));
      lastCost?.dispose();
      lastCost = cost;
    },
    async sync() {
      if (!lastCost) return NaN;
      return (await lastCost.data())[0];
    },
    dispose() {
      lastCost?.dispose();
      for (const v of [...gVars, ...dVars, ...average]) v.dispose();
      gOptimizer.dispose();
      dOptimizer.dispose();
    },
  };
}
