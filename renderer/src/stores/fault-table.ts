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
  { key: 'time', label: 'time', width: 92 },
  { key: 'dev', label: 'dev', width: 44, right: true },
  { key: 'pasid', label: 'pasid', width: 64, right: true },
  { key: 'grpid', label: 'grpid', width: 52, right: true },
  { key: 'perm', label: 'perm', width: 44 },
  { key: 'addr', label: 'address', width: 146 },
  { key: 'pages', label: 'pages', width: 60, right: true },
  { key: 'state', label: 'state', width: 64 },
  { key: 'by', label: 'by', width: 84 },
  { key: 'latency', label: 'latency', width: 80, right: true },
];

/** relative: since the session started; absolute: wall clock; delta: since the row above. */
export type TimeMode = 'relative' | 'absolute' | 'delta';
export const TIME_MODES: readonly TimeMode[] = ['relative', 'absolute', 'delta'];

const PREFS_KEY = 'iommuscope.faultTable';
/** Narrowest a dragged column gets (the header's resize handle stays reachable). */
export const MIN_COL_WIDTH = 28;
export const MAX_COL_WIDTH = 800;

interface Prefs {
  hidden: ColumnKey[];
  time: TimeMode;
  widths: Partial<Record<ColumnKey, number>>;
}

function loadWidths(v: unknown): Partial<Record<ColumnKey, number>> {
  const out: Partial<Record<ColumnKey, number>> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const c of COLUMNS) {
    const w = (v as Record<string, unknown>)[c.key];
    if (typeof w === 'number' && w >= MIN_COL_WIDTH && w <= MAX_COL_WIDTH) out[c.key] = w;
  }
  return out;
}

function loadPrefs(): Prefs {
  try {
    const v = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as Record<string, unknown>;
    const keys = COLUMNS.map((c) => c.key as string);
    const hidden = Array.isArray(v.hidden)
      ? (v.hidden.filter((k) => typeof k === 'string' && keys.includes(k)) as ColumnKey[])
      : [];
    const time = TIME_MODES.includes(v.time as TimeMode) ? (v.time as TimeMode) : 'relative';
    return { hidden, time, widths: loadWidths(v.widths) };
  } catch {
    return { hidden: [], time: 'relative', widths: {} };
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
  /** Widths the user dragged or fitted; the others keep COLUMNS' default. */
  const widths = ref<Partial<Record<ColumnKey, number>>>(prefs.widths);
  /** Where the last plain click landed: the start of a shift-click range. */
  const anchor = ref<number | null>(null);

  watch([hidden, timeMode, widths], () => {
    try {
      localStorage.setItem(
        PREFS_KEY,
        JSON.stringify({ hidden: [...hidden.value], time: timeMode.value, widths: widths.value }),
      );
    } catch {
      // Storage unavailable: the options last for this page.
    }
  });

  function widthOf(c: Column): number {
    return widths.value[c.key] ?? c.width;
  }

  function setWidth(key: ColumnKey, px: number): void {
    const w = Math.round(Math.min(MAX_COL_WIDTH, Math.max(MIN_COL_WIDTH, px)));
    widths.value = { ...widths.value, [key]: w };
  }

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
   * the core says where it is under the filter and the sort.
   */
  async function gotoGroup(text: string): Promise<string | null> {
    const faults = useFaultsStore();
    const id: GroupId = text.trim().replace(/^#/, '');
    if (!/^(0|[1-9][0-9]{0,15})$/.test(id)) return `'${text}' is not a group number`;
    const f = faults.filter;
    try {
      const res = await useCore().request('faults.query', {
        offset: 0,
        limit: 1,
        ...(Object.keys(f).length ? { filter: f } : {}),
        ...(faults.sort ? { sort: faults.sort } : {}),
        locate: id,
      });
      if (res.at === null || res.at === undefined) {
        return `group #${id} is not in the table${faults.hasFilter ? ' under this filter' : ' (answered long ago and dropped, or not read yet)'}`;
      }
      faults.follow = false;
      faults.cursor = res.at;
      faults.cursorGroup = id;
      faults.cursorGone = false;
      anchor.value = res.at;
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

  return {
    hidden,
    timeMode,
    widths,
    widthOf,
    setWidth,
    anchor,
    toggleColumn,
    selectRange,
    gotoGroup,
    copyRow,
  };
});
