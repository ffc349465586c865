// Statistics over the fault log (faults.stats): per device, per PASID and per
// conversation (device, PASID, PRI group index), in the spirit of Wireshark's
// Statistics menu. Computed in the core from the log's rows, so they cover
// what the log holds (every pending group and the newest answered ones).

/** Most rows one table of faults.stats returns; the rest are counted in `leftOut`. */
export const MAX_STATS_ROWS = 1000;

export interface StatsRow {
  /** null in the per-PASID table's device column, and for "no PASID". */
  dev: number | null;
  pasid: number | null;
  /** Conversations only. */
  grpid: number | null;
  groups: number;
  pages: number;
  pending: number;
  success: number;
  invalid: number;
  byUser: number;
  byPolicy: number;
  byDrain: number;
  byKernel: number;
  /** Read-to-answer latency over the answered groups with one, µs; null when none. */
  p50Us: number | null;
  p99Us: number | null;
  maxUs: number | null;
  /** First and last group (decimal sequence numbers). */
  firstGroup: string;
  lastGroup: string;
}

export interface StatsTable {
  rows: StatsRow[];
  /** Keys beyond the returned rows (the rows kept are those with the most groups). */
  leftOut: number;
}

export interface FaultStats {
  /** Groups the statistics cover (the log's rows that matched the filter). */
  groups: number;
  byDevice: StatsTable;
  byPasid: StatsTable;
  conversations: StatsTable;
}
