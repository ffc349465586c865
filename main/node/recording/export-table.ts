// `export --format csv|ndjson`: the recording as a table of groups (one row
// per group: its read joined with its answer) or of events (one row per
// frame: faults per page, responses, errors, batches, set-up, notes ...).
import {
  decodeFaultRecord,
  FAULT_RECORD_BYTES,
  FaultFlag,
  permString,
} from '../../common/fault-record';
import type { DecodedFrame } from './frames';
import { GroupJoin, type GroupRow } from './group-join';
import { byName, codeName, faultBatchToNdjson, otherFrameLine } from './batch-ndjson';
import { BatchAssembler } from './batch-frames';

export type ExportTable = 'groups' | 'events';

const GROUP_COLUMNS = [
  'queue',
  'group',
  'cookie',
  'dev',
  'pasid',
  'grpid',
  'perm',
  'addr',
  'pages',
  'read_ns',
  'answer_ns',
  'latency_ns',
  'code',
  'by',
  'rule',
  'state',
] as const;

const EVENT_COLUMNS = [
  'time_ns',
  'type',
  'queue',
  'group',
  'cookie',
  'dev',
  'pasid',
  'grpid',
  'perm',
  'addr',
  'code',
  'by',
  'rule',
  'latency_ns',
  'detail',
] as const;

type Cell = string | number | null;

function groupRecord(r: GroupRow): Record<(typeof GROUP_COLUMNS)[number], Cell> {
  return {
    queue: r.queue,
    group: r.group,
    cookie: r.cookie,
    dev: r.devId,
    pasid: r.pasid,
    grpid: r.grpid,
    perm: r.perm === null ? null : permString(r.perm),
    addr: r.addr,
    pages: r.pages,
    read_ns: r.readNs,
    answer_ns: r.answer?.monoNs ?? null,
    latency_ns: r.answer?.latencyNs ?? null,
    code: r.answer ? codeName(r.answer.code) : null,
    by: r.answer ? byName(r.answer.by) : null,
    rule: r.answer?.rule ?? null,
    state: r.answer ? 'answered' : 'pending',
  };
}

type EventRecord = Partial<Record<(typeof EVENT_COLUMNS)[number], Cell>>;

function eventRecords(f: DecodedFrame): EventRecord[] {
  switch (f.kind) {
    case 'read': {
      if (!f.records)
        return [
          {
            time_ns: f.monoNs,
            type: 'fault',
            queue: f.queue,
            group: f.group,
            cookie: f.cookie,
            detail: `${f.pages} page(s), records left out`,
          },
        ];
      const view = new DataView(f.records.buffer, f.records.byteOffset, f.records.byteLength);
      const out: EventRecord[] = [];
      for (let p = 0; p < f.pages; p++) {
        const r = decodeFaultRecord(view, p * FAULT_RECORD_BYTES);
        out.push({
          time_ns: f.monoNs,
          type: 'fault',
          queue: f.queue,
          group: f.group,
          cookie: r.cookie,
          dev: r.devId,
          pasid: r.flags & FaultFlag.PasidValid ? r.pasid : null,
          grpid: r.grpid,
          perm: permString(r.perm),
          addr: r.addr,
        });
      }
      return out;
    }
    case 'answer':
      return [
        {
          time_ns: f.monoNs,
          type: 'response',
          queue: f.queue,
          group: f.group,
          cookie: f.cookie,
          code: codeName(f.code),
          by: byName(f.by),
          rule: f.rule,
          latency_ns: f.latencyNs,
        },
      ];
    case 'error':
      return [
        {
          time_ns: f.monoNs,
          type: 'error',
          queue: f.queue,
          group: f.group,
          cookie: f.cookie,
          code: f.code,
          detail: `${f.op}: ${f.message}`,
        },
      ];
    case 'batch':
      return [
        { time_ns: f.monoNs, type: 'batch', queue: f.queue, detail: JSON.stringify(f.totals) },
      ];
    case 'header':
      return [];
    case 'vevent':
      return [
        {
          time_ns: f.monoNs,
          type: 'vevent',
          detail: JSON.stringify({
            ...f,
            kind: undefined,
            data: Buffer.from(f.data).toString('hex'),
          }),
        },
      ];
    case 'unknown':
      return [
        {
          time_ns: f.monoNs,
          type: `unknown-0x${f.type.toString(16)}`,
          detail: Buffer.from(f.body).toString('hex'),
        },
      ];
    default: {
      const { kind, monoNs, ...rest } = f;
      return [
        {
          time_ns: monoNs,
          type: kind,
          queue: 'queue' in rest ? (rest.queue as number) : null,
          detail: JSON.stringify(rest),
        },
      ];
    }
  }
}

function csvCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A group as an NDJSON object: the CSV row with camelCase names, like `watch --json`. */
function groupObject(r: GroupRow): Record<string, Cell> {
  const { read_ns, answer_ns, latency_ns, ...rest } = groupRecord(r);
  return { type: 'group', ...rest, readNs: read_ns, answerNs: answer_ns, latencyNs: latency_ns };
}

/**
 * Streams rows to `write`; call add() for every frame, then end().
 * NDJSON events are exactly the lines `replay --json` prints.
 */
export class TableExporter {
  private readonly join: GroupJoin | null;
  private readonly batches = new BatchAssembler();

  constructor(
    private readonly format: 'csv' | 'ndjson',
    private readonly table: ExportTable,
    private readonly write: (text: string) => void,
  ) {
    if (format === 'csv')
      write(`${(table === 'groups' ? GROUP_COLUMNS : EVENT_COLUMNS).join(',')}\n`);
    this.join =
      table === 'groups'
        ? new GroupJoin((r) =>
            format === 'csv'
              ? this.csvRow(GROUP_COLUMNS, groupRecord(r))
              : this.write(`${JSON.stringify(groupObject(r))}\n`),
          )
        : null;
  }

  add(f: DecodedFrame): void {
    if (this.join) return this.join.add(f);
    if (this.format === 'csv') {
      for (const r of eventRecords(f)) this.csvRow(EVENT_COLUMNS, r);
      return;
    }
    const done = this.batches.add(f);
    if (done) this.write(faultBatchToNdjson(done.batch));
    else if (f.kind !== 'read' && f.kind !== 'answer' && f.kind !== 'error') {
      const line = otherFrameLine(f);
      if (line) this.write(`${line}\n`);
    }
  }

  end(): void {
    this.join?.finish();
  }

  private csvRow(columns: readonly string[], rec: Record<string, Cell | undefined>): void {
    this.write(`${columns.map((c) => csvCell(rec[c])).join(',')}\n`);
  }
}
