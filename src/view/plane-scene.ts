// What the plane of a 2-D toy shows, built once per trainer for SampleCanvas (canvas.ts): D's output
// over a grid of the plane (the heatmap), G's image of a grid of noise (the mesh) for each network
// the trainer can show, the data's first points and the generated ones. Every frame records the
// passes and draws the layers made here.
import { GpuPass, type GpuNetwork } from '../nn/mlp';
import type { Trainer } from '../train/trainer';
import type { PlaneLayer, PlaneRenderer } from './render';

const HEATMAP_GRID = 48;
const MESH_GRID = 16;
export const SHOWN_POINTS = 1000;

type Dispatch = { record(pass: GPUComputePassEncoder): void };

/** The plane's extent: the square [lo, hi]^2 drawn into width x height pixels. */
export interface PlaneBounds {
  lo: number;
  hi: number;
  width: number;
  height: number;
}

/** Which generated points are drawn: the last G step's minibatch or G on the fixed noise, at most `count`. */
export interface PlanePoints {
  latest: boolean;
  count?: number;
}

export class PlaneScene {
  /** Generated points, per sample buffer (G's and the average's fixed-noise output, or the latest batches). */
  private readonly points = new Map<GPUBuffer, PlaneLayer>();
  /** Reused by every frame. */
  private readonly frame: PlaneLayer[] = [];

  private constructor(
    private readonly trainer: Trainer,
    private readonly plane: PlaneRenderer,
    private readonly bounds: PlaneBounds,
    private readonly shown: PlanePoints,
    private readonly dispatches: Dispatch[],
    private readonly heatmap: PlaneLayer,
    private readonly real: PlaneLayer,
    /** Per network the trainer can show: its mesh's dispatches and layer. */
    private readonly meshes: Map<GpuNetwork, { dispatches: Dispatch[]; layer: PlaneLayer }>,
    private readonly owned: { destroy(): void }[],
  ) {}

  static async create(
    trainer: Trainer,
    plane: PlaneRenderer,
    bounds: PlaneBounds,
    shown: PlanePoints,
  ): Promise<PlaneScene> {
    const { rt, clock, config } = trainer;
    const { lo, hi } = bounds;
    const cells = new Float32Array(HEATMAP_GRID * HEATMAP_GRID * 2);
    for (let j = 0; j < HEATMAP_GRID; j++)
      for (let i = 0; i < HEATMAP_GRID; i++)
        cells.set(
          [lo + ((i + 0.5) * (hi - lo)) / HEATMAP_GRID, lo + ((j + 0.5) * (hi - lo)) / HEATMAP_GRID],
          2 * (j * HEATMAP_GRID + i),
        );
    const noise = new Float32Array(MESH_GRID * MESH_GRID * config.noise.dim);
    // G's image of a square of noise: the first two noise dimensions on a grid over [-2, 2], any others 0.
    for (let r = 0; r < MESH_GRID; r++)
      for (let c = 0; c < MESH_GRID; c++)
        noise.set(
          [-2 + (4 * c) / (MESH_GRID - 1), -2 + (4 * r) / (MESH_GRID - 1)],
          config.noise.dim * (r * MESH_GRID + c),
        );
    const cellBuffer = rt.upload('canvas.heatmap.x', cells);
    const noiseBuffer = rt.upload('canvas.mesh.z', noise);
    const rng = { seed: config.seed, sub: 0, streamBase: 0, dropout: false };
    const dPass = GpuPass.create(
      trainer.discriminator,
      clock,
      HEATMAP_GRID * HEATMAP_GRID,
      cellBuffer,
      rng,
      'canvas.heatmap.d',
    );
    const heatmap = plane.layer('heatmap', dPass.output, HEATMAP_GRID, bounds);
    // The data's first rows, straight from the dataset on the GPU.
    const real = plane.layer('points', trainer.dataset.buffer, Math.min(SHOWN_POINTS, trainer.dataset.count), bounds, {
      color: [0.12, 0.43, 0.78, 0.7],
      size: 3,
    });
    const owned: { destroy(): void }[] = [cellBuffer, noiseBuffer, dPass, heatmap.uniform, real.uniform];
    const meshes = new Map<GpuNetwork, { dispatches: Dispatch[]; layer: PlaneLayer }>();
    for (const network of [trainer.generator, trainer.generatorAverage]) {
      if (!network) continue;
      const gPass = GpuPass.create(
        network,
        clock,
        MESH_GRID * MESH_GRID,
        noiseBuffer,
        rng,
        `canvas.mesh.${network.spec.name}`,
      );
      const layer = plane.layer('manifold', gPass.output, MESH_GRID, bounds, { color: [0.35, 0.35, 0.35, 0.6] });
      meshes.set(network, { dispatches: await gPass.forward(), layer });
      owned.push(gPass, layer.uniform);
    }
    const scene = new PlaneScene(trainer, plane, bounds, shown, await dPass.forward(), heatmap, real, meshes, owned);
    scene.pointsLayer();
    return scene;
  }

  /** The generated points' layer of the buffer shown now, made the first time that buffer is shown. */
  private pointsLayer(): PlaneLayer {
    const { trainer, shown } = this;
    const buffer = shown.latest ? trainer.latestSamples : trainer.fixedNoiseSamples;
    let layer = this.points.get(buffer);
    if (!layer) {
      const available = shown.latest ? trainer.config.batch : trainer.options.sampleCount;
      layer = this.plane.layer('points', buffer, Math.min(shown.count ?? SHOWN_POINTS, available), this.bounds, {
        color: [0.86, 0.35, 0.12, 0.8],
        size: 3,
      });
      this.points.set(buffer, layer);
      this.owned.push(layer.uniform);
    }
    return layer;
  }

  /** D over the plane and the mesh of the generator the trainer shows. */
  record(pass: GPUComputePassEncoder): void {
    for (const d of this.dispatches) d.record(pass);
    for (const d of this.meshes.get(this.trainer.shownNetwork)!.dispatches) d.record(pass);
  }

  /** The frame's layers, back to front. */
  layers(): PlaneLayer[] {
    const layers = this.frame;
    layers.length = 0;
    layers.push(this.heatmap, this.meshes.get(this.trainer.shownNetwork)!.layer, this.real, this.pointsLayer());
    return layers;
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
  }
}
