// Optional GPU timestamps: where the adapter offers 'timestamp-query', each timed compute pass
// writes its begin and end times; the durations come back through a ReadbackRing, never stalling.
import { ReadbackRing } from './readback';

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly ring: ReadbackRing;
  private readonly names: string[] = [];

  /** undefined when the device lacks timestamp queries: callers then time nothing. */
  static create(device: GPUDevice, maxPasses = 32): GpuTimer | undefined {
    return device.features.has('timestamp-query') ? new GpuTimer(device, maxPasses) : undefined;
  }

  private constructor(
    device: GPUDevice,
    private readonly maxPasses: number,
  ) {
    this.querySet = device.createQuerySet({ label: 'timer.queries', type: 'timestamp', count: 2 * maxPasses });
    this.resolveBuffer = device.createBuffer({
      label: 'timer.resolve',
      size: 16 * maxPasses,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.ring = new ReadbackRing(device, 16 * maxPasses, 3, 'timer.readback');
  }

  /** The timestampWrites for a pass of this name (passes are numbered in the order first asked). */
  pass(name: string): GPUComputePassTimestampWrites {
    let index = this.names.indexOf(name);
    if (index < 0) {
      if (this.names.length === this.maxPasses) throw new Error(`GpuTimer: more than ${this.maxPasses} timed passes`);
      index = this.names.push(name) - 1;
    }
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  /** Records the resolve and the copy out; call once at the end of an encoder with timed passes. */
  resolve(encoder: GPUCommandEncoder, tag = 0): boolean {
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.names.length, this.resolveBuffer, 0);
    return this.ring.copy(encoder, this.resolveBuffer, tag);
  }

  submitted(): void {
    this.ring.submitted();
  }

  /** Milliseconds per named pass, for every resolved set that has arrived. */
  drain(): { tag: number; milliseconds: Record<string, number> }[] {
    return this.ring.drain().map(({ tag, data }) => {
      const times = new BigUint64Array(data);
      const milliseconds: Record<string, number> = {};
      this.names.forEach((name, i) => {
        milliseconds[name] = Number(times[2 * i + 1] - times[2 * i]) / 1e6;
      });
      return { tag, milliseconds };
    });
  }
}
