// Keys for `iommuscope replay` on a terminal: the timeline from the keyboard.
//   space pause/resume   . one batch (paused)   → ← seek ±10 s
//   + - speed ×2 / ÷2    0 back to the start    q quit
import type { ReplayQueue } from '../recording/replay-queue';

export const REPLAY_KEYS_HELP =
  'keys: space pause/resume, . step one batch, → ← seek ±10 s, + - speed ×2/÷2, 0 restart, q quit';

/** What a key does to the replay; returns 'quit' for q / Ctrl-C, else a status word or null. */
export function applyReplayKey(key: string, q: ReplayQueue): string | null {
  const pos = q.position();
  switch (key) {
    case ' ':
      if (pos.paused) q.resume();
      else q.pause();
      return pos.paused ? 'playing' : 'paused';
    case '.':
      if (!pos.paused) q.pause();
      return q.step() ? 'stepped' : 'at the end';
    case '\u001b[C':
      q.seek(pos.ns + 10e9);
      return 'seek +10 s';
    case '\u001b[D':
      q.seek(Math.max(pos.firstNs ?? 0, pos.ns - 10e9));
      return 'seek -10 s';
    case '+':
      q.setSpeed(pos.speed * 2);
      return `speed ${pos.speed * 2}`;
    case '-':
      q.setSpeed(pos.speed / 2);
      return `speed ${pos.speed / 2}`;
    case '0':
      q.seek(pos.firstNs ?? 0);
      return 'restart';
    case 'q':
    case '\u0003':
      return 'quit';
    default:
      return null;
  }
}

/** Read keys from a TTY stdin while the replay runs; returns the detach function. */
export function attachReplayKeys(
  q: ReplayQueue,
  onQuit: () => void,
  say: (s: string) => void,
): () => void {
  const input = process.stdin;
  if (!input.isTTY) return () => {};
  input.setRawMode(true);
  input.resume();
  const onData = (d: Buffer): void => {
    const what = applyReplayKey(d.toString('utf8'), q);
    if (what === 'quit') onQuit();
    else if (what) say(what);
  };
  input.on('data', onData);
  say(REPLAY_KEYS_HELP);
  return () => {
    input.off('data', onData);
    input.setRawMode(false);
    input.pause();
  };
}
