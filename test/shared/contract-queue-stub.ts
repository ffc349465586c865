// A NativeFaultQueue over ContractQueue batches, for tests of code that takes
// a queue (the batch tap, the recorder, metrics): push() delivers a batch to
// the started callback exactly as the native flush does.
import type { FaultBatch, NativeFaultQueue, QueueTotals } from '../../main/node/native/addon-types';
import { zeroQueueTotals } from '../../main/node/native/queue-totals';

export class StubQueue implements NativeFaultQueue {
  private onBatch: ((b: FaultBatch) => void) | null = null;
  private last: QueueTotals = zeroQueueTotals();
  closed = false;
  calls: string[] = [];
  constructor(readonly id = 1) {}
  start(onBatch: (b: FaultBatch) => void): void {
    if (!(this instanceof StubQueue)) throw new TypeError('wrong receiver');
    this.onBatch = onBatch;
  }
  push(b: FaultBatch): void {
    this.last = b.totals;
    this.onBatch?.(b);
  }
  setPolicy(): void {
    this.calls.push('setPolicy');
  }
  respond(): never {
    throw new Error('not in this stub');
  }
  drain(code: 0 | 1): number {
    if (!(this instanceof StubQueue)) throw new TypeError('wrong receiver');
    this.calls.push(`drain ${code}`);
    return 0;
  }
  pending(): [] {
    return [];
  }
  totals(): QueueTotals {
    return { ...this.last };
  }
  inject(): void {}
  injectProgress() {
    return { injected: 0, failed: 0, done: true };
  }
  injectTimes(): Float64Array {
    return new Float64Array(0);
  }
  stopInject(): void {}
  simDetach(): number {
    return 0;
  }
  simRefuseAnswers(): void {}
  kernelDetached(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
}
