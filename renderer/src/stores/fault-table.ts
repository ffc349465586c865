// The fault table's view options (kept in localStorage): hidden columns and
// the time column's mode; and its table actions that work on the faults
// store: go to a group, shift-click range selection, copy a row.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { FaultRow, GroupId } from '../../../main/common/contract';
import { useCore } from '../transport';
import { errorMessage } from '../format';
import { useAppStore } from './app';
import { useFaultsStore } from './faults';

export type ColumnKey =
  | 'group'
  | 'time'
  | 'dev'
  | 'pasid'
  | 'grpid'
  | 'perm'
  | 'addr'
  | 'pages'
  | 'state'
  | 'by'
  | 'latency'
  | 'cookie';

export interface Column {
  key: ColumnKey;
  label: string;
  /** Fixed width, px: wide enough for the column's longest value (never cut). */
  width: number;
  right?: boolean;
}

// The cookie sits next to the group: it stays in view when a narrow window scrolls the rest.
export const COLUMNS: readonly Column[] = [
  { key: 'group', label: 'group', width: 84, right: true },
  { key: 'cookie', label: 'cookie', width: 72, right: true },
  { key: 'time', label: 'time', width: 100 },
  { key: 'dev', label: 'dev', width: 44, right: true },
  { key: 'pasid', label: 'pasid', width: 64, right: true },
  { key: 'grpid', label: 'grpid', width: 52, right: true },
  { key: 'perm', label: 'perm', width: 44 },
  { key: 'addr', label: 'address', width: 146 },
  { key: 'pages', label: 'pages', width: 60, right: true },
  { key: 'state', label: 'state', width: 64 },
  { key: 'by', label: 'by', width: 92 },
  { key: 'latency', label: 'latency', width: 80, right: true },
];

/** relative: since the session started; absolute: wall clock; delta: since the row above. */
export type TimeMode = 'relative' | 'absolute' | 'delta';
export const TIME_MODES: readonly TimeMode[] = ['relative', 'absolute', 'delta'];

const PREFS_KEY = 'iommuscope.faultTable';

function loadPrefs(): { hidden: ColumnKey[]; time: TimeMode } {
  try {
    const v = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as Record<string, unknown>;
    const keys = COLUMNS.map((c) => c.key as string);
    const hidden = Array.isArray(v.hidden)
      ? (v.hidden.filter((k) => typeof k === 'string' && keys.includes(k)) as ColumnKey[])
      : [];
    const time = TIME_MODES.includes(v.time as TimeMode) ? (v.time as TimeMode) : 'relative';
    return { hidden, time };
  } catch {
    return { hidden: [], time: 'relative' };
  }
}

/** One row as a line of text, the columns in table order. */
export function rowText(r: FaultRow): string {
  const by = r.by === 'policy' && r.rule !== null ? `policy rule ${r.rule}` : (r.by ?? '-');
  return (
    `group ${r.group} dev ${r.devId} pasid ${r.pasid ?? '-'} grpid ${r.grpid} perm ${r.perm} ` +
    `addr ${r.addr} pages ${r.pages} ${r.state} by ${by} latency ${r.latencyUs ?? '-'}us cookie ${r.cookie} read ${r.readMs}ms`
  );
}

export const useFaultTableStore = defineStore('faultTable', () => {
  const prefs = loadPrefs();
  const hidden = ref(new Set<ColumnKey>(prefs.hidden));
  const timeMode = ref<TimeMode>(prefs.time);
  /** Where the last plain click landed: the start of a shift-click range. */
  const anchor = ref<number | null>(null);

  watch([hidden, timeMode], () => {
    try {
      localStorage.setItem(
        PREFS_KEY,
        JSON.stringify({ hidden: [...hidden.value], time: timeMode.value }),
      );
    } catch {
      // Storage unavailable: the options last for this page.
    }
  });

  function toggleColumn(key: ColumnKey): void {
    const next = new Set(hidden.value);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    hidden.value = next;
  }

  /** Selects every loaded row from the anchor to `pos` (inclusive), added to the selection. */
  function selectRange(pos: number): void {
    const faults = useFaultsStore();
    const from = anchor.value ?? pos;
    const [lo, hi] = from <= pos ? [from, pos] : [pos, from];
    const next = new Set(faults.selected);
    for (let p = lo; p <= hi; p++) {
      const row = faults.rowAt(p);
      if (row) next.add(row.group);
    }
    faults.selected = next;
  }

  /**
   * Puts the cursor on group `text` (a decimal group number, '#' allowed):
   * its position under the filter is how many matching groups come before it.
   */
  async function gotoGroup(text: string): Promise<string | null> {
    const faults = useFaultsStore();
    const id: GroupId = text.trim().replace(/^#/, '');
    if (!/^(0|[1-9][0-9]{0,15})$/.test(id)) return `'${text}' is not a group number`;
    const f = faults.filter;
    const before = f.filter ? `(${f.filter}) && group < ${id}` : `group < ${id}`;
    const at = f.filter ? `(${f.filter}) && group == ${id}` : `group == ${id}`;
    try {
      const core = useCore();
      const [pos, hit] = await Promise.all([
        core.request('faults.query', { offset: 0, limit: 1, filter: { ...f, filter: before } }),
        core.request('faults.query', { offset: 0, limit: 1, filter: { ...f, filter: at } }),
      ]);
      if (hit.total === 0) {
        return `group #${id} is not in the table${faults.hasFilter ? ' under this filter' : ' (answered long ago and dropped, or not read yet)'}`;
      }
      faults.follow = false;
      faults.cursor = pos.total;
      faults.cursorGroup = id;
      faults.cursorGone = false;
      anchor.value = pos.total;
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async function copyRow(pos: number, as: 'text' | 'json'): Promise<void> {
    const app = useAppStore();
    const row = useFaultsStore().rowAt(pos);
    if (!row) {
      app.notify('info', 'Nothing to copy: no row under the cursor.');
      return;
    }
    const text = as === 'json' ? JSON.stringify(row) : rowText(row);
    try {
      await navigator.clipboard.writeText(text);
      app.notify('info', `Copied group #${row.group} as ${as === 'json' ? 'JSON' : 'text'}.`);
    } catch (err) {
      app.notify('warning', `Cannot copy to the clipboard (${errorMessage(err)}): ${text}`);
    }
  }

  return { hidden, timeMode, anchor, toggleColumn, selectRange, gotoGroup, copyRow };
});
