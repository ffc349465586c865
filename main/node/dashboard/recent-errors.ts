// The newest errors of a session, kept until the user dismisses them, so an
// error counted in totals.errors is also shown (not for one frame only).
// Bounded: past `max` the oldest fall off (totals.errors still counts them).
import type { Frame } from '../../common/contract';

export type RecentError = Frame['errors'][number];

/** Recent errors kept until dismissed. */
export const MAX_RECENT_ERRORS = 50;

export class RecentErrors {
  private list: RecentError[] = [];
  private nextId = 1;

  constructor(private readonly max = MAX_RECENT_ERRORS) {}

  add(e: Omit<RecentError, 'id'>): void {
    this.list.push({ id: this.nextId++, ...e });
    if (this.list.length > this.max) this.list.splice(0, this.list.length - this.max);
  }

  /** Forgets every error up to and including id `upTo`. */
  dismiss(upTo: number): void {
    this.list = this.list.filter((e) => e.id > upTo);
  }

  /** A copy, oldest first. */
  snapshot(): RecentError[] {
    return this.list.slice();
  }
}
