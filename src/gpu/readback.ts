// Asynchronous readback without stalling the queue: a ring of mappable staging buffers. A copy is
// recorded into the caller's encoder; after the caller submits, the slot is mapped in the
// background and its bytes come back a few submissions later through `drain`. When every slot is
// still in flight the copy is refused rather than waited for, so the training loop never blocks.

interface Slot {
  buffer: GPUBuffer;
  state: 'free' | 'recorded' | 'mapping' | 'ready';
  tag: number;
  data?: ArrayBuffer;
  order: number;
}

export interface Readback {
  /** What the caller attached to the copy (an iteration number, say). */
  tag: number;
  data: ArrayBuffer;
}

export class ReadbackRing {
  private readonly slots: Slot[];
  private sequence = 0;
  private failure: Error | undefined;

  constructor(
    device: GPUDevice,
    readonly bytes: number,
    slotCount = 4,
    label = 'readback',
  ) {
    if (bytes <= 0 || bytes % 4 !== 0)
      throw new RangeError(`${label}: readback size ${bytes} must be a positive multiple of 4`);
    this.slots = Array.from({ length: slotCount }, (_, i) => ({
      buffer: device.createBuffer({
        label: `${label}.slot${i}`,
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
      state: 'free' as const,
      tag: 0,
      order: 0,
    }));
  }

  /** Records a copy of `bytes` bytes of `source` from `offset`; false when no slot is free. */
  copy(encoder: GPUCommandEncoder, source: GPUBuffer, tag: number, offset = 0): boolean {
    const slot = this.slots.find((s) => s.state === 'free');
    if (!slot) return false;
    encoder.copyBufferToBuffer(source, offset, slot.buffer, 0, this.bytes);
    slot.state = 'recorded';
    slot.tag = tag;
    slot.order = this.sequence++;
    return true;
  }

  /** Call after submitting the encoder(s) holding the copies: starts mapping them. */
  submitted(): void {
    for (const slot of this.slots) {
      if (slot.state !== 'recorded') continue;
      slot.state = 'mapping';
      slot.buffer.mapAsync(GPUMapMode.READ).then(
        () => {
          slot.data = slot.buffer.getMappedRange().slice(0);
          slot.buffer.unmap();
          slot.state = 'ready';
        },
        (err: Error) => {
          this.failure = err;
          slot.state = 'free';
        },
      );
    }
  }

  /** The readbacks that have arrived, oldest first; their slots are free again. */
  drain(): Readback[] {
    if (this.failure) {
      const err = this.failure;
      this.failure = undefined;
      throw new Error(`Readback failed: ${err.message}`);
    }
    const ready = this.slots.filter((s) => s.state === 'ready').sort((a, b) => a.order - b.order);
    return ready.map((slot) => {
      const result = { tag: slot.tag, data: slot.data! };
      slot.data = undefined;
      slot.state = 'free';
      return result;
    });
  }

  /** Copies recorded or mapping. */
  get inFlight(): number {
    return this.slots.filter((s) => s.state === 'recorded' || s.state === 'mapping').length;
  }

  destroy(): void {
    for (const slot of this.slots) slot.buffer.destroy();
  }
}
