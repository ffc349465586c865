// faults.respond: group ids from the wire → the queue's respond(), and its
// failures → messages a user can act on. An ESTALE refusal says who answered
// the group and when (from the native queue, else from the fault log's row).
import { answeredByNames, type GroupId, type RespondOutcome } from '../../common/contract';
import type { AnswerFailure } from '../native/addon-types';
import type { FaultSession } from '../session/fault-session';
import type { FaultLog } from './fault-log';

/** What respond needs of the session's dashboard state. */
export interface RespondView {
  readonly startNs: number;
  readonly log: FaultLog;
}

/** A group id as the queue's number, or undefined when no group can have it (past 2^53). */
export function toGroupSeq(id: GroupId): number | undefined {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}

const codeWord = (c: number | undefined): string =>
  c === 0 ? 'success' : c === 1 ? 'invalid' : 'an unknown code';

const monoNs = (): number => Number(process.hrtime.bigint());

function sessionTime(ms: number): string {
  const m = Math.floor(ms / 60000);
  const s = (ms % 60000) / 1000;
  return `${m}:${s.toFixed(3).padStart(6, '0')}`;
}

/** "answered invalid by drain at 0:01.234 (2.5 s ago)", or undefined when nobody knows. */
function whoAnswered(f: AnswerFailure, view: RespondView | undefined): string | undefined {
  if (f.answeredBy !== undefined) {
    const by = answeredByNames[f.answeredBy] ?? `answerer ${f.answeredBy}`;
    let when = '';
    if (f.answeredAtNs !== undefined && view) {
      const ago = (monoNs() - f.answeredAtNs) / 1e9;
      when = ` at ${sessionTime((f.answeredAtNs - view.startNs) / 1e6)} (${ago.toFixed(1)} s ago)`;
    }
    return `answered ${codeWord(f.answeredCode)} by ${by}${when}`;
  }
  const row = view?.log.rowByGroup(f.group);
  if (row && row.state !== 'pending' && row.by) {
    const at = row.latencyUs !== null ? ` at ${sessionTime(row.readMs + row.latencyUs / 1e3)}` : '';
    return `answered ${row.state} by ${row.by}${at}`;
  }
  return undefined;
}

function failureMessage(f: AnswerFailure, view: RespondView | undefined): string {
  if (f.code !== 'ESTALE') return f.message;
  const who = whoAnswered(f, view);
  return who
    ? `group ${f.group} is no longer pending: ${who}; nothing was written`
    : f.message || `group ${f.group} is not pending; nothing was written`;
}

export function respondToGroups(
  session: FaultSession,
  ids: readonly GroupId[],
  code: 0 | 1,
  view: RespondView | undefined,
): RespondOutcome {
  const out: RespondOutcome = { ok: [], failed: [] };
  const seqs: number[] = [];
  const seen = new Set<number>();
  for (const id of ids) {
    const seq = toGroupSeq(id);
    if (seq === undefined) {
      out.failed.push({
        group: id,
        cookie: null,
        code: 'ESTALE',
        message: `group ${id} was never read by this core (group numbers stay below 2^53)`,
      });
    } else if (!seen.has(seq)) {
      seen.add(seq);
      seqs.push(seq);
    }
  }
  if (seqs.length === 0) return out;
  const r = session.respond(seqs, code);
  for (const g of r.ok) out.ok.push(String(g));
  for (const f of r.failed) {
    out.failed.push({
      group: String(f.group),
      cookie: f.cookie,
      code: f.code,
      message: failureMessage(f, view),
      ...(f.answeredBy !== undefined ? { answeredBy: answeredByNames[f.answeredBy] } : {}),
    });
  }
  return out;
}
