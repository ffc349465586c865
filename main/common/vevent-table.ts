// The Events view's model, pure so it is unit tested without a browser: it
// applies 'vevent.frame' events in order, keeps the newest `maxRows` rows
// (memory stays bounded; how many fell out is counted), and exposes the
// totals and the lost counter the view shows. The renderer's Pinia store
// wraps one of these.
import type { VeventFrame, VeventState, VeventTotalsUi, VeventUiRow } from './vevent-contract';

export const VEVENT_TABLE_MAX_ROWS = 5000;

export class VeventTable {
  rows: VeventUiRow[] = [];
  state: VeventState | null = null;
  totals: VeventTotalsUi = {
    read: 0,
    lost: 0,
    lostMarkers: 0,
    errors: 0,
    overflow: 0,
    injected: 0,
    injectFailed: 0,
  };
  /** Rows that fell out of the table (oldest first) or that the core skipped. */
  rowsDropped = 0;
  /** Loss rows seen (each one a gap or a LOST_EVENTS marker). */
  lossRows = 0;
  /** The queue whose rows the table holds; a new queue starts a new table. */
  private queue: number | null = null;

  constructor(private readonly maxRows = VEVENT_TABLE_MAX_ROWS) {}

  apply(f: VeventFrame): void {
    if (f.state.open && f.state.queue !== this.queue) this.clear();
    if (f.state.open) this.queue = f.state.queue;
    this.state = f.state;
    this.totals = f.totals;
    this.rowsDropped += f.rowsSkipped;
    if (!f.rows.length) return;
    for (const r of f.rows) if (r.kind === 'lost') this.lossRows++;
    const rows = this.rows.concat(f.rows);
    const over = rows.length - this.maxRows;
    if (over > 0) {
      this.rowsDropped += over;
      this.rows = rows.slice(over);
    } else {
      this.rows = rows;
    }
  }

  clear(): void {
    this.rows = [];
    this.rowsDropped = 0;
    this.lossRows = 0;
    this.queue = null;
  }

  /** The lost counter the view shows: events lost per the kernel (gaps and markers). */
  get lost(): number {
    return this.totals.lost;
  }

  /** Newest first, `limit` rows, for a table that follows the stream. */
  newest(limit: number): VeventUiRow[] {
    return this.rows.slice(-limit).reverse();
  }
}
