// The training clock: one small uniform holding the iteration number, shared by every kernel that
// draws random numbers. The scheduler writes it once per iteration; resuming writes the saved step.
export class Clock {
  readonly buffer: GPUBuffer;
  private readonly word = new Uint32Array(4);

  constructor(private readonly device: GPUDevice) {
    this.buffer = device.createBuffer({
      label: 'clock',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  set(step: number): void {
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff)
      throw new RangeError(`clock step ${step} is not a u32`);
    this.word[0] = step;
    this.device.queue.writeBuffer(this.buffer, 0, this.word);
  }
}
