// How `watch`, `serve` and `start` end, whatever ends them: a stop signal
// (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2), stdout closed under
// us (EPIPE: `watch --json | head -1`), or an error nobody caught (a throw in
// any callback, an unhandled rejection). Every one of them drains with the
// run's --drain-code, prints exactly one summary line and exits with one of
// the documented statuses below. Commands only describe their run (how to
// stop it gracefully, how to summarise it after a crash); this module owns
// the signal set, the EPIPE handling, the summary-once guarantee and the
// status mapping.
import type { EventEmitter } from 'node:events';
import { drainAllOpenQueues } from '../session/crash-drain';
import { escapeForTerminal } from '../../common/terminal-text';

/** The exit statuses the README documents. */
export const ExitStatus = {
  /** Everything read was answered, no kernel call failed. */
  Clean: 0,
  /** Something went unanswered, or a kernel call (or the set-up) failed. */
  Unclean: 1,
  /** Bad command line. */
  Usage: 2,
  /** A bug: an error nobody caught (EX_SOFTWARE). */
  Internal: 70,
} as const;

/** Signals that stop a run gracefully (drain, summary, exit). */
export const STOP_SIGNALS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
] as const satisfies readonly NodeJS.Signals[];

/** How long a graceful stop may take before the drain is forced. */
export const DEFAULT_GRACE_MS = 15_000;

export function statusFor(summary: { clean: boolean }): number {
  return summary.clean ? ExitStatus.Clean : ExitStatus.Unclean;
}

export const drainCodeName = (code: 0 | 1): string => (code === 0 ? 'SUCCESS' : 'INVALID');

interface Stream {
  write(text: string, done?: (err?: Error | null) => void): unknown;
  on(event: 'error', fn: (err: NodeJS.ErrnoException) => void): unknown;
}

/** What the module needs from the process; tests pass a fake. */
export interface ExitIo {
  proc: Pick<EventEmitter, 'on' | 'off'>;
  stdout: Stream;
  stderr: Stream;
  exit(code: number): void;
  /** Drains every open fault queue synchronously; returns how many groups. */
  drainAll(code: 0 | 1): number;
}

/** What a crash or a forced stop knows: for the run's summary line. */
export interface CrashInfo {
  /** 'internal error', 'unhandled rejection', 'SIGTERM (shutdown timed out)' ... */
  stopReason: string;
  error: string;
  /** Groups answered by the synchronous drain just now. */
  drained: number;
}

export interface RunSpec {
  /** The answer for pending groups; a function when it can change during the run. */
  drainCode: 0 | 1 | (() => 0 | 1);
  /** First stop request (signal, EPIPE): begin the ordinary drain and summary. */
  onStop(reason: string): void;
  /** The summary line after a crash drain, built synchronously (no awaiting). */
  crashSummary?(info: CrashInfo): object;
  /** Whether a closed stdout stops the run (watch: yes; serve: its stdout is only the URL). */
  stopOnStdoutClosed?: boolean;
  graceMs?: number;
}

export interface Run {
  /** Write to stdout, unless it has gone (then the text is dropped). */
  out(text: string): void;
  /** The run's one summary line (an object, printed as JSON); later calls are ignored. */
  summary(obj: object): void;
  readonly stdoutClosed: boolean;
  readonly stopReason: string | undefined;
  /** The run ended normally: remove its signal handlers and the grace timer. */
  end(): void;
}

export class ExitPaths {
  private run: (RunSpec & { stopReason?: string; grace?: NodeJS.Timeout }) | undefined;
  private stdoutGone = false;
  private summaryDone = false;
  private crashing = false;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly name: string,
    private readonly io: ExitIo,
  ) {
    io.stdout.on('error', (err) => this.onStdoutError(err));
    // A closed stderr is nobody's problem: keep running, quietly.
    io.stderr.on('error', () => {});
    io.proc.on('uncaughtException', (err: unknown) => this.crash('internal error', err));
    io.proc.on('unhandledRejection', (err: unknown) => this.crash('unhandled rejection', err));
  }

  get stdoutClosed(): boolean {
    return this.stdoutGone;
  }

  /** Begin a run: stop signals now stop it gracefully, a crash drains with its code. */
  begin(spec: RunSpec): Run {
    this.run = { ...spec };
    for (const sig of STOP_SIGNALS) {
      const fn = (): void => this.requestStop(sig);
      this.signalHandlers.set(sig, fn);
      this.io.proc.on(sig, fn);
    }
    if (this.stdoutGone && spec.stopOnStdoutClosed) this.requestStop('EPIPE');
    const closed = (): boolean => this.stdoutGone;
    const reason = (): string | undefined => this.run?.stopReason;
    return {
      out: (text) => this.out(text),
      summary: (obj) => this.summary(obj),
      get stdoutClosed() {
        return closed();
      },
      get stopReason() {
        return reason();
      },
      end: () => this.endRun(),
    };
  }

  out(text: string): void {
    if (!this.stdoutGone) this.io.stdout.write(text);
  }

  /** One summary line per process: on stdout, or on stderr once stdout has gone. */
  summary(obj: object): void {
    if (this.summaryDone) return;
    this.summaryDone = true;
    const line = `${JSON.stringify(obj)}\n`;
    if (this.stdoutGone) this.io.stderr.write(line);
    // stdout may turn out to be gone only now (serve | head -1): then stderr gets the line.
    else this.io.stdout.write(line, (err) => void (err && this.io.stderr.write(line)));
  }

  private say(line: string): void {
    this.io.stderr.write(`${this.name}: ${escapeForTerminal(line)}\n`);
  }

  private requestStop(reason: string): void {
    const run = this.run;
    if (!run) return;
    if (run.stopReason !== undefined) {
      if (reason !== 'EPIPE')
        this.say(`${reason}: still draining; pending groups are answered before exit`);
      return;
    }
    run.stopReason = reason;
    const graceMs = run.graceMs ?? DEFAULT_GRACE_MS;
    run.grace = setTimeout(() => this.forceStop(`${reason} (shutdown timed out)`), graceMs);
    run.grace.unref?.();
    run.onStop(reason);
  }

  private endRun(): void {
    const run = this.run;
    if (!run) return;
    if (run.grace) clearTimeout(run.grace);
    for (const [sig, fn] of this.signalHandlers) this.io.proc.off(sig, fn);
    this.signalHandlers.clear();
    this.run = undefined;
  }

  private onStdoutError(err: NodeJS.ErrnoException): void {
    if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') {
      this.crash('stdout error', err);
      return;
    }
    // The reader went away (`| head -1`): not an error, stop like a signal would.
    this.stdoutGone = true;
    if (this.run?.stopOnStdoutClosed) this.requestStop('EPIPE');
  }

  /** Drain synchronously, print the summary, exit. Never returns normally to the caller's plan. */
  private terminate(stopReason: string, err: unknown, status: number, stack: boolean): void {
    const spec = this.run?.drainCode ?? 1;
    const code = typeof spec === 'function' ? spec() : spec;
    let drained = 0;
    try {
      drained = this.io.drainAll(code);
    } catch {
      // drainAll already keeps going queue by queue; nothing better to do here.
    }
    const message = err instanceof Error ? err.message : String(err);
    const detail = stack && err instanceof Error ? (err.stack ?? message) : message;
    this.say(`${stopReason}: ${detail}`);
    this.say(`answered ${drained} pending group(s) ${drainCodeName(code)} before exiting`);
    let line: object | undefined;
    try {
      line = this.run?.crashSummary?.({ stopReason, error: message, drained });
    } catch {
      line = undefined;
    }
    this.summary(line ?? { type: 'summary', stopReason, error: message, drained, clean: false });
    this.endRun();
    this.io.exit(status);
  }

  private crash(kind: string, err: unknown): void {
    if (this.crashing) {
      // A throw while handling a throw: the drain already ran, or cannot.
      this.io.exit(ExitStatus.Internal);
      return;
    }
    this.crashing = true;
    this.terminate(kind, err, ExitStatus.Internal, true);
  }

  private forceStop(reason: string): void {
    if (this.crashing) return;
    this.crashing = true;
    this.terminate(
      reason,
      'the graceful drain did not finish in time; pending groups were drained directly',
      ExitStatus.Unclean,
      false,
    );
  }
}

let installed: ExitPaths | undefined;

/** Install once per process (idempotent); `name` prefixes every message. */
export function installExitPaths(name: string, io?: Partial<ExitIo>): ExitPaths {
  installed ??= new ExitPaths(name, {
    proc: process,
    stdout: process.stdout,
    stderr: process.stderr,
    exit: (code) => process.exit(code),
    drainAll: drainAllOpenQueues,
    ...io,
  });
  return installed;
}

/** The installed instance (main() installs it; a direct caller gets a default one). */
export function exitPaths(): ExitPaths {
  return installed ?? installExitPaths('iommuscope');
}
