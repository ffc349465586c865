// What one WebSocket client may cost the server: at most MAX_IN_FLIGHT
// requests being handled at once, and no new request while MAX_QUEUED_BYTES
// of its answers wait to be sent (a client that does not read). Beyond
// MAX_BEHIND_BYTES it is disconnected. Without these, 2,000 concurrent
// faults.query of 1,000 rows blocked the event loop for 3 s and 20,000 took
// the process to 2.7 GB.
import type { ResponseEnvelope } from '../../common/contract';

export const MAX_IN_FLIGHT = 32;
export const MAX_QUEUED_BYTES = 16 << 20;
export const MAX_BEHIND_BYTES = 64 << 20;
export const BUSY_CODE = 'EBUSY';

/** The request id of a raw message, without parsing it (for a refusal's answer). */
export function peekRequestId(text: string): number {
  const m = /"id"\s*:\s*(\d{1,15})\b/.exec(text.slice(0, 256));
  return m ? Number(m[1]) : -1;
}

export class ClientBudget {
  private inFlight = 0;

  constructor(
    private readonly maxInFlight = MAX_IN_FLIGHT,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {}

  get pending(): number {
    return this.inFlight;
  }

  /** An error answer when the request must be refused now, else undefined (then call done() later). */
  admit(text: string, queuedBytes: number): ResponseEnvelope | undefined {
    let message: string | undefined;
    if (this.inFlight >= this.maxInFlight) {
      message =
        `too many requests in flight (${this.maxInFlight} per client): ` +
        'wait for answers before sending more';
    } else if (queuedBytes > this.maxQueuedBytes) {
      message =
        `${Math.round(queuedBytes / 1048576)} MiB of answers are still waiting to be sent to this ` +
        `client (limit ${this.maxQueuedBytes >> 20} MiB): read them before sending more requests`;
    }
    if (message) return { id: peekRequestId(text), ok: false, error: { code: BUSY_CODE, message } };
    this.inFlight++;
    return undefined;
  }

  done(): void {
    this.inFlight--;
  }
}
