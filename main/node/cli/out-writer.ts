// Buffered output for `watch`: one chunk (one write) per batch, and never a
// blocked event loop. When the stream says it is full (write() returns
// false) chunks wait here until 'drain'; past `maxBacklogBytes` new lines are
// counted as lost instead of piling up in memory, and reported once output
// flows again.

export interface OutStream {
  write(chunk: string): boolean;
  once(event: 'drain', fn: () => void): unknown;
}

export class OutWriter {
  private backlog: string[] = [];
  private backlogBytes = 0;
  private blocked = false;
  private waiters: (() => void)[] = [];
  /** Lines dropped because the reader of our output fell too far behind. */
  lost = 0;
  private lostUnreported = 0;

  constructor(
    private readonly out: OutStream,
    /** Formats the "N lines lost" notice in the stream's language. */
    private readonly lostLine: (lines: number) => string,
    private readonly maxBacklogBytes = 64 << 20,
  ) {}

  /** Queue `chunk` (holding `lines` lines) for output. */
  write(chunk: string, lines = 1): void {
    if (!chunk) return;
    if (this.blocked) {
      if (this.backlogBytes + chunk.length > this.maxBacklogBytes) {
        this.lost += lines;
        this.lostUnreported += lines;
        return;
      }
      this.backlog.push(chunk);
      this.backlogBytes += chunk.length;
      return;
    }
    this.send(chunk);
  }

  /** Resolves when everything queued was handed to the stream and it is not full. */
  idle(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private send(chunk: string): void {
    if (this.out.write(chunk)) return;
    this.blocked = true;
    this.out.once('drain', () => this.onDrain());
  }

  private onDrain(): void {
    this.blocked = false;
    let chunk = this.backlog.join('');
    this.backlog = [];
    this.backlogBytes = 0;
    if (this.lostUnreported) {
      chunk += this.lostLine(this.lostUnreported);
      this.lostUnreported = 0;
    }
    if (chunk) this.send(chunk);
    if (!this.blocked) for (const w of this.waiters.splice(0)) w();
  }
}
