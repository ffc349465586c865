// `watch` output speed. Part 1, in process: NDJSON and text formatting of
// native-shaped batches written to a file, against the old way (one
// JSON.stringify per event, measured in the same run). Part 2, end to end
// (needs the built addon): `watch --source sim --policy success` to a file
// with --json, and in text mode, against the run without output (-q);
// the target is --json at least 0.5 of that rate. The last line is one JSON
// object with the figures.
//   npm run bench:watch [faults]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagNames, formatAddr, permString } from '../main/common/fault-record';
import { decodeBatch, type DecodedBatch } from '../main/node/session/decode-batch';
import { batchToNdjson } from '../main/node/cli/watch-output';
import { TextFormatter } from '../main/node/cli/watch-text';
import type { FaultBatch } from '../main/node/native/addon-types';

const GROUPS = 8192;

function nativeShapedBatch(firstGroup: number): DecodedBatch {
  const records = new ArrayBuffer(GROUPS * 40);
  const w = new Uint32Array(records);
  for (let i = 0; i < GROUPS; i++) {
    const o = i * 10;
    w[o] = 3;
    w[o + 1] = 1 + (i % 4);
    w[o + 2] = 1 + (i % 8);
    w[o + 3] = i & 0x1ff;
    w[o + 4] = 1;
    w[o + 6] = 0x1000000 + i * 4096;
    w[o + 8] = 4096;
    w[o + 9] = 1 + (i % 512);
  }
  const seq = Float64Array.from({ length: GROUPS }, (_, i) => firstGroup + i);
  const zero = { faults: 0, groups: 0, answered: 0, success: 0, invalid: 0, pending: 0 };
  const raw: FaultBatch = {
    queue: 1,
    read: {
      group: seq,
      cookie: Uint32Array.from({ length: GROUPS }, (_, i) => 1 + (i % 512)),
      first: Uint32Array.from({ length: GROUPS }, (_, i) => i),
      pages: new Uint32Array(GROUPS).fill(1),
      readNs: Float64Array.from({ length: GROUPS }, (_, i) => 1e12 + i * 1000),
    },
    records,
    answered: {
      group: seq,
      cookie: Uint32Array.from({ length: GROUPS }, (_, i) => 1 + (i % 512)),
      codes: new Uint8Array(GROUPS),
      by: new Uint8Array(GROUPS).fill(1),
      rule: new Int16Array(GROUPS).fill(-1),
      latencyNs: new Float64Array(GROUPS).fill(12_345),
    },
    errors: [],
    overflow: 0,
    totals: {
      ...zero,
      byUser: 0,
      byPolicy: 0,
      byDrain: 0,
      byKernel: 0,
      errors: 0,
      overflow: 0,
      malformed: 0,
      reads: 0,
    },
  };
  return decodeBatch(raw, 1);
}

/** The per-event JSON.stringify output this replaced (the reference). */
function oldNdjson(batch: DecodedBatch): string {
  const lines: string[] = [];
  const b = { ...batch }; // the lazy columns as plain fields, so only JSON.stringify is measured
  for (let i = 0; i < b.count; i++) {
    lines.push(
      JSON.stringify({
        type: 'fault',
        group: String(b.read.group[i]),
        cookie: b.cookie[i],
        dev: b.devId[i],
        pasid: b.flags[i]! & 1 ? b.pasid[i] : null,
        grpid: b.grpid[i],
        perm: permString(b.perm[i]!),
        addr: formatAddr(b.addrHi[i]!, b.addrLo[i]!),
        length: b.length[i],
        flags: flagNames(b.flags[i]!),
        readNs: b.read.readNs[i],
      }),
    );
  }
  const a = b.answered;
  for (let i = 0; i < a.count; i++) {
    lines.push(
      JSON.stringify({
        type: 'response',
        group: String(a.group[i]),
        cookie: a.cookie[i],
        code: 'success',
        by: 'policy',
        rule: a.rule[i],
        latencyNs: a.latencyNs[i],
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

function formatRate(format: (b: DecodedBatch) => string, fd: number): number {
  const batches = Array.from({ length: 40 }, (_, k) => nativeShapedBatch(1 + k * GROUPS));
  for (const b of batches) void b.cookie; // decode outside the timing
  const t0 = performance.now();
  for (const b of batches) writeSync(fd, format(b));
  return (batches.length * GROUPS * 1000) / (performance.now() - t0);
}

function watchRate(count: number, mode: string[], file: string): number | string {
  const root = path.resolve(__dirname, '..', '..');
  const fd = openSync(file, 'w');
  try {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        'bin/iommuscope.js',
        'watch',
        '--source',
        'sim',
        '--inject',
        `count=${count}`,
        '--policy',
        'success',
        ...mode,
      ],
      { cwd: root, stdio: ['ignore', fd, 'pipe'], timeout: 600_000 },
    );
    const ms = performance.now() - t0;
    if (r.status !== 0) return `exit ${r.status}: ${String(r.stderr).trim().split('\n').at(-1)}`;
    return (count * 1000) / ms;
  } finally {
    closeSync(fd);
  }
}

function main(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-bench-watch-'));
  const fd = openSync(path.join(dir, 'format.out'), 'w');
  const ref = formatRate(oldNdjson, fd);
  const ndjson = formatRate((b) => batchToNdjson(b).text, fd);
  const text = new TextFormatter();
  const textRate = formatRate((b) => text.batch(b).text, fd);
  closeSync(fd);
  console.log(`format+write, JSON.stringify per event (reference): ${ref.toFixed(0)} groups/s`);
  console.log(
    `format+write, NDJSON one string per batch: ${ndjson.toFixed(0)} groups/s (${(ndjson / ref).toFixed(2)}x ref)`,
  );
  console.log(
    `format+write, text lines: ${textRate.toFixed(0)} groups/s (${(textRate / ref).toFixed(2)}x ref)`,
  );
  const count = Number(process.argv[2] ?? 2_000_000);
  const quiet = watchRate(count, ['-q'], path.join(dir, 'quiet.out'));
  const json = watchRate(count, ['--json'], path.join(dir, 'json.out'));
  const lines = watchRate(count, [], path.join(dir, 'text.out'));
  const ratio = (x: number | string): number | null =>
    typeof x === 'number' && typeof quiet === 'number' ? x / quiet : null;
  const show = (x: number | string): string => (typeof x === 'number' ? `${x.toFixed(0)}/s` : x);
  console.log(
    `watch -q (reference): ${show(quiet)}; --json to a file: ${show(json)} (${ratio(json)?.toFixed(2) ?? '-'}x, target >= 0.5); text to a file: ${show(lines)} (${ratio(lines)?.toFixed(2) ?? '-'}x)`,
  );
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      formatRefGroupsPerSec: Math.round(ref),
      formatNdjsonRatio: ndjson / ref,
      formatTextRatio: textRate / ref,
      watchQuietPerSec: typeof quiet === 'number' ? Math.round(quiet) : quiet,
      watchJsonRatio: ratio(json),
      watchTextRatio: ratio(lines),
    }),
  );
}

main();
