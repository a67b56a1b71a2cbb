/** Frames to send, packed back to back in one preallocated buffer (the shape sendmmsg wants). */
export class OutputBatch {
  readonly bytes: Uint8Array;
  readonly lengths: Uint32Array;
  count = 0;
  used = 0;

  constructor(
    readonly capacity: number,
    readonly slotSize = 128,
  ) {
    this.bytes = new Uint8Array(capacity * slotSize);
    this.lengths = new Uint32Array(capacity);
  }

  /** Forget the frames (after sending). */
  reset(): void {
    this.count = 0;
    this.used = 0;
  }

  /** True when no further frame fits. */
  get full(): boolean {
    return this.count >= this.capacity;
  }
}
