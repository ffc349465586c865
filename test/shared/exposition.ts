// Reading a Prometheus text exposition back in tests: promtool (Debian's
// prometheus package) judges the syntax; samples() reads values by name and
// labels for the counter checks.
import { spawnSync } from 'node:child_process';

/** promtool's verdict, or why it cannot be asked. */
export function promtoolCheck(text: string): { skip: string } | { status: number; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) return { skip: 'promtool is not installed (Debian: apt-get install prometheus)' };
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(all: Sample[], name: string, match: Record<string, string> = {}): number {
  return all
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
