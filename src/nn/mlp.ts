// A network of dense layers on the GPU: parameters and gradients in one buffer each (laid out by
// src/nn/layout.ts), and passes that hold the activations of one batch and build their dispatches
// once. Twin: src/reference/mlp.ts.
import type { Clock } from '../gpu/clock';
import type { BufferBinding, Dispatch, Runtime } from '../gpu/runtime';
import { denseBackward, denseForward, type GpuDropout } from '../kernels/dense';
import { createNonfiniteFlag, createOptimizer, type Optimizer } from '../kernels/optimizer';
import { allocateDenseBuffers, allocateDenseScratch, type DenseBuffers } from './dense-buffers';
import {
  biasName,
  classWeightName,
  inputTransform,
  layerShape,
  networkClasses,
  parameterLayout,
  type ParameterLayout,
  tensor,
  weightName,
} from './layout';
import type { NetworkSpec } from '../spec/network';

export class GpuNetwork {
  readonly layout: ParameterLayout;
  readonly params: GPUBuffer;
  private readonly gradBuffer?: GPUBuffer;

  /** `options.trainable` false: parameters only, for sampling (the averaged generator, evaluation). */
  constructor(
    readonly rt: Runtime,
    readonly spec: NetworkSpec,
    options: { trainable: boolean } = { trainable: true },
  ) {
    this.layout = parameterLayout(spec);
    const bytes = this.layout.totalFloats * 4;
    this.params = rt.createBuffer(`${spec.name}.params`, bytes);
    if (options.trainable) this.gradBuffer = rt.createBuffer(`${spec.name}.grads`, bytes);
  }

  get grads(): GPUBuffer {
    if (!this.gradBuffer) throw new Error(`${this.spec.name}: built for sampling only, it has no gradient buffer.`);
    return this.gradBuffer;
  }

  /** A tensor's range in a buffer laid out by this network's layout (params or grads). */
  range(buffer: GPUBuffer, name: string): BufferBinding {
    const { offset, size } = tensor(this.layout, name);
    return { buffer, offset: offset * 4, size: size * 4 };
  }

  /** Writes all parameters (a flat array laid out by `layout`). */
  async upload(flat: Float32Array): Promise<void> {
    if (flat.length !== this.layout.totalFloats) {
      throw new Error(`${this.spec.name}: ${flat.length} parameters given, the layout has ${this.layout.totalFloats}`);
    }
    this.rt.device.queue.writeBuffer(this.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  destroy(): void {
    this.params.destroy();
    this.gradBuffer?.destroy();
  }
}

/**
 * Adam (beta1 0.9, beta2 0.999) over all of a network's parameters, for the nets trained beside the
 * GAN (the --score classifier, the encoder): its moments `${label}.adam_m`, `.adam_v` and the
 * nonfinite flag, all in `state` for the caller to destroy.
 */
export async function networkAdam(
  rt: Runtime,
  network: GpuNetwork,
  label: string,
  lr: number,
): Promise<{ optimizer: Optimizer; nonfinite: GPUBuffer; state: GPUBuffer[] }> {
  const count = network.layout.totalFloats;
  const nonfinite = createNonfiniteFlag(rt, `${label}.nonfinite`);
  const moments = [0, 1].map((m) => rt.createBuffer(`${label}.adam_${m ? 'v' : 'm'}`, count * 4));
  const optimizer = await createOptimizer(
    rt,
    { rule: 'adam', count },
    { grad: network.grads, param: network.params, firstMoment: moments[0], secondMoment: moments[1], nonfinite },
    { lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  );
  return { optimizer, nonfinite, state: [nonfinite, ...moments] };
}

/** What keys a pass's dropout masks: layer l draws from stream streamBase + l; the clock gives the step. */
export interface PassRng {
  seed: number;
  sub: number;
  streamBase: number;
  /** false: no dropout in this pass (evaluation), whatever the network's layers say. */
  dropout?: boolean;
}

export interface BackwardOptions {
  /** dL/d(output), (batch, last layer's units). */
  outputGrad: GPUBuffer;
  /** Add to the network's grads instead of overwriting them. */
  accumulate?: boolean;
  /** false: compute only the input gradient (the generator's loss through the discriminator). */
  weightGrads?: boolean;
  /** Where dL/d(input) goes, when wanted. */
  inputGrad?: GPUBuffer;
}

/**
 * A conditional pass's classes: `labels` (batch) u32 picks row labels[r] of the class rows for row r.
 * `rows` replaces the network's own class rows in the forward pass (a (rows, width) buffer, `count`
 * rows): the page's interpolation between two classes feeds mixtures of two rows that way.
 */
export interface PassClasses {
  labels: GPUBuffer;
  rows?: { buffer: BufferBinding; count: number };
}

/** The activations of one batch through a network, and the dispatches that fill them. */
export class GpuPass {
  readonly output: GPUBuffer;
  /**
   * Each layer's own buffers (./dense-buffers.ts): y, the maxout winners, dropout(x), and for every
   * layer above the first dx, which is dL/dy of the layer below. Parameters and their gradients are
   * ranges of the network's buffers.
   */
  private readonly layers: DenseBuffers<{
    parameters: false;
    gradients: false;
    inputGrad: boolean;
    dropout: boolean;
  }>[] = [];
  /** dL/dz of the layer being differentiated, and its transpose: layers take turns, so one buffer of the widest serves. */
  private readonly dz: GPUBuffer;
  private readonly dzT: GPUBuffer;

  private constructor(
    readonly network: GpuNetwork,
    readonly clock: Clock,
    readonly batch: number,
    readonly input: GPUBuffer,
    readonly rng: PassRng,
    readonly label: string,
    readonly classes?: PassClasses,
  ) {
    const { rt, spec } = network;
    if (networkClasses(spec) > 0 && !classes)
      throw new Error(`${label}: '${spec.name}' is conditional, so its pass needs the class of each row`);
    if (classes && classes.labels.size < batch * 4)
      throw new Error(`${label}: label buffer '${classes.labels.label}' holds fewer than ${batch} classes`);
    const shapes = spec.layers.map((_, l) => layerShape(spec, l, batch));
    for (const [l, layer] of spec.layers.entries()) {
      const dropout = inputTransform(layer, rng.dropout !== false) !== undefined;
      const x = l === 0 ? input : this.layers[l - 1].y;
      this.layers.push(
        allocateDenseBuffers(rt, shapes[l], {
          label: `${label}.${l}`,
          x,
          parameters: false,
          gradients: false,
          inputGrad: l > 0,
          dropout,
        }),
      );
    }
    ({ dz: this.dz, dzT: this.dzT } = allocateDenseScratch(rt, label, ...shapes));
    this.output = this.layers[this.layers.length - 1].y;
  }

  /** `classes`: a conditional network's classes of the batch's rows (ignored by an unconditional one). */
  static create(
    network: GpuNetwork,
    clock: Clock,
    batch: number,
    input: GPUBuffer,
    rng: PassRng,
    label: string,
    classes?: PassClasses | GPUBuffer,
  ): GpuPass {
    const conditional = networkClasses(network.spec) > 0;
    const given = classes && 'labels' in classes ? classes : classes ? { labels: classes as GPUBuffer } : undefined;
    return new GpuPass(network, clock, batch, input, rng, label, conditional ? given : undefined);
  }

  /** Layer 0's class term in the forward pass: the network's class rows (or the pass's own) picked by the labels. */
  private forwardClassTerm(l: number) {
    if (l > 0 || !this.classes) return undefined;
    const { rows } = this.classes;
    const own = {
      buffer: this.network.range(this.network.params, classWeightName(this.network.spec)),
      count: networkClasses(this.network.spec),
    };
    const { buffer, count } = rows ?? own;
    return { weight: buffer, labels: this.classes.labels, classes: count };
  }

  private dropout(l: number): GpuDropout | undefined {
    const transform = inputTransform(this.network.spec.layers[l], this.rng.dropout !== false);
    return transform && { ...transform, seed: this.rng.seed, stream: this.rng.streamBase + l, sub: this.rng.sub };
  }

  async forward(): Promise<Dispatch[]> {
    const { rt, spec, params } = this.network;
    const dispatches: Dispatch[] = [];
    for (let l = 0; l < spec.layers.length; l++) {
      const { x, y, winner, dropped } = this.layers[l];
      const buffers = {
        x,
        weight: this.network.range(params, weightName(spec, l)),
        bias: this.network.range(params, biasName(spec, l)),
        y,
        winner,
        dropped,
        classTerm: this.forwardClassTerm(l),
      };
      dispatches.push(
        ...(await denseForward(rt, this.clock, layerShape(spec, l, this.batch), buffers, this.dropout(l))),
      );
    }
    return dispatches;
  }

  async backward(options: BackwardOptions): Promise<Dispatch[]> {
    const { rt, spec, grads } = this.network;
    const dispatches: Dispatch[] = [];
    for (let l = spec.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l];
      const buffers = {
        dy: l === spec.layers.length - 1 ? options.outputGrad : this.layers[l + 1].dx!,
        saved: layer.saved,
        input: layer.input,
        weight: this.network.range(this.network.params, weightName(spec, l)),
        dweight: this.network.range(grads, weightName(spec, l)),
        dbias: this.network.range(grads, biasName(spec, l)),
        dz: this.dz,
        dzT: this.dzT,
        dx: l > 0 ? layer.dx : options.inputGrad,
        classTerm:
          l === 0 && this.classes
            ? {
                dweight: this.network.range(grads, classWeightName(spec)),
                labels: this.classes.labels,
                classes: networkClasses(spec),
              }
            : undefined,
      };
      const layerOptions = {
        dropout: this.dropout(l),
        accumulate: options.accumulate,
        weightGrads: options.weightGrads,
      };
      dispatches.push(...(await denseBackward(rt, this.clock, layerShape(spec, l, this.batch), buffers, layerOptions)));
    }
    return dispatches;
  }

  destroy(): void {
    for (const layer of this.layers) layer.destroy();
    this.dz.destroy();
    this.dzT.destroy();
  }
}
