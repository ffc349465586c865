// `npm run bench:match`: the policy matcher's cost per group. The native
// matcher (matchGroups, the code the reader thread runs per group) over a
// million random 1..4-page groups for a few filters, against the trivial
// program (`true`) measured in the same run; and the TypeScript closure
// evaluator (the dashboard's table filter) over the same groups.
import { parseFilter } from '../main/common/filter/parser';
import { compileFilter, groupListFacts } from '../main/common/filter/evaluate';
import { compileNativeMatch } from '../main/node/native/compile-match';
import { loadAddon } from '../main/node/native/load';
import { encodeGroups, prng, randomGroup } from '../test/shared/random-filters';

const N = 1_000_000;
const FILTERS = [
  'dev == 2',
  'pasid in {1..4} && !perm.x',
  'addr in {0x20000..0x2ffff}',
  'all addr in {0x1f000..0x21fff} || perm == "rw"',
  'dev == 2 && pasid in {1..4} && !perm.x && (addr >= 0x100000000 || pages > 2) && cookie != 7',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const addon = loadAddon();
  const r = prng(7);
  const groups = Array.from({ length: N }, (_, i) => randomGroup(r, i + 1));
  const { records, pages } = encodeGroups(groups);
  const nativeMs = (text: string): number => {
    const m = compileNativeMatch(parseFilter(text, { readTimeOnly: true }));
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      addon.matchGroups(m, records, pages);
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  const tsMs = (text: string): number => {
    const test = compileFilter(parseFilter(text), groupListFacts(groups));
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      let n = 0;
      for (let s = 0; s < N; s++) if (test(s)) n++;
      runs.push(performance.now() - t + n * 0);
    }
    return median(runs);
  };
  // The reference is measured next to each filter, so load changes hit both.
  console.log(`${N} random groups of 1..4 pages; reference: the program 'true'`);
  for (const f of FILTERS) {
    const ref = nativeMs('');
    const ms = nativeMs(f);
    console.log(
      `native ${((ms / N) * 1e6).toFixed(1).padStart(5)} ns/group (${(ms / ref).toFixed(2)}× ref ${((ref / N) * 1e6).toFixed(1)} ns)` +
        `  TS closures ${((tsMs(f) / N) * 1e6).toFixed(1).padStart(5)} ns/group  ${f}`,
    );
  }
}

main();
