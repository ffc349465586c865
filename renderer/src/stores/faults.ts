// The fault table's data: a window of rows fetched with faults.query around
// what is on screen (never the whole log), the filter, cursor, selection,
// expanded groups and the detail pane. Rows are cached in pages; the visible
// pages are re-fetched (at most a few times a second) when frames say the log
// or the answers moved. The selection, the cursor and the expanded rows
// follow groups (their ids), not positions: rows move when others leave the
// filter or the log, and an answer must reach the group the user saw.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import {
  displayLineCount,
  lineAt as lineAtOf,
  lineOf as lineOfIn,
  locateGroup,
} from '../../../main/common/fault-table-place';
import {
  compareGroupIds,
  faultFilter,
  type GroupId,
  type FaultDetail,
  type FaultFilter,
  type FaultRow,
  type FaultSort,
  type Frame,
  type RequestResult,
} from '../../../main/common/contract';
import { validate } from '../../../main/common/schema';
import { useCore } from '../transport';
import { errorMessage } from '../format';
import { useAppStore } from './app';
import { setUrlFilterText, urlFilterText } from '../fault-url-state';
import { loadSort, saveSort } from '../sort-storage';

export const PAGE_ROWS = 200;
/** Cached pages beyond this are evicted, furthest from the screen first. */
const MAX_CACHED_PAGES = 40;
/** Visible rows are re-fetched at most this often while faults stream in. */
const REFRESH_MS = 300;
/** Scrolling settles this long before missing pages are fetched. */
const FETCH_DEBOUNCE_MS = 30;

export interface ExpandedGroup {
  group: GroupId;
  pages: FaultDetail['pages'] | null;
  error: string | null;
}

export type DrainScope = 'pending' | 'filter';

/** A faults.query answer and the group it was asked to locate (null: none). */
type Located = RequestResult<'faults.query'> & { located: GroupId | null };

export const useFaultsStore = defineStore('faults', () => {
  const initialText = urlFilterText();
  const filter = ref<FaultFilter>(initialText ? { filter: initialText } : {});
  /** null: group order (the log's own). Sorted in the core, so it holds across pages. */
  const sort = ref<FaultSort | null>(loadSort());
  const total = ref(0);
  const pages = shallowRef(new Map<number, FaultRow[]>());
  const follow = ref(true);
  /** Table position of the cursor (where its group is, or would be when it left the view). */
  const cursor = ref(0);
  /** The group under the cursor: the cursor follows it when rows move. */
  const cursorGroup = ref<GroupId | null>(null);
  /**
   * The cursor's group left the view (answered under a state filter, or
   * evicted): `cursor` is where it was, the row there is the one after it.
   */
  const cursorGone = ref(false);
  /** Selected groups. */
  const selected = ref(new Set<GroupId>());
  /** Expanded groups by table position (moved with their group on refresh). */
  const expanded = ref(new Map<number, ExpandedGroup>());
  const detail = shallowRef<FaultDetail | null>(null);
  const detailError = ref<string | null>(null);

  let visibleFirst = 0;
  let visibleLast = 0;
  /** Bumped on filter change so answers to older queries are dropped. */
  let generation = 0;
  /** Pages being fetched, as 'generation:page' (a newer generation fetches again). */
  const inFlight = new Set<string>();
  let fetchTimer: ReturnType<typeof setTimeout> | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let lastRefresh = 0;
  let lastSeen = { logSize: -1, answered: -1, dropped: -1 };
  /** The newest frame's log size: where the tail is, for live-follow. */
  let latestLogSize = 0;

  const hasFilter = computed(() => Object.keys(filter.value).length > 0);

  function rowAt(pos: number): FaultRow | undefined {
    return pages.value.get(Math.floor(pos / PAGE_ROWS))?.[pos % PAGE_ROWS];
  }

  /**
   * One faults.query for up to a page of rows from `offset`, under filter
   * `f` and the sort. It also asks where the cursor's group is now: rows
   * move when answers re-sort them or the sort changes, and the cursor
   * follows its group.
   */
  async function query(offset: number, f: FaultFilter): Promise<Located> {
    const s = sort.value;
    const locate = !follow.value && cursorGroup.value !== null ? cursorGroup.value : null;
    const res = await useCore().request('faults.query', {
      offset,
      limit: PAGE_ROWS,
      ...(Object.keys(f).length ? { filter: f } : {}),
      ...(s ? { sort: s } : {}),
      ...(locate !== null ? { locate } : {}),
    });
    return { ...res, located: locate };
  }

  /**
   * Where the core says the cursor's group is (gone in group order: relocate
   * places it). Ignored when the cursor moved to another group meanwhile.
   */
  function placeCursor(res: Located): void {
    if (res.at === undefined || follow.value || res.located !== cursorGroup.value) return;
    if (res.at === null) {
      if (sort.value) cursorGone.value = true;
    } else {
      cursor.value = res.at;
      cursorGone.value = false;
    }
  }

  /**
   * Runs `load` once at a time per `what` and filter generation; what it
   * loaded is placed only if the filter did not change meanwhile.
   */
  async function fetchRows(
    what: string,
    load: (
      f: FaultFilter,
    ) => Promise<{ total: number; place: (map: Map<number, FaultRow[]>) => void }>,
  ): Promise<void> {
    const gen = generation;
    const key = `${gen}:${what}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    try {
      const got = await load(filter.value);
      if (gen !== generation) return;
      got.place(pages.value);
      total.value = got.total;
      evict();
      relocate();
      triggerRef(pages);
    } catch (err) {
      if (gen === generation) useAppStore().notify('warning', `faults.query: ${errorMessage(err)}`);
    } finally {
      inFlight.delete(key);
    }
  }

  function fetchPage(page: number): Promise<void> {
    return fetchRows(String(page), async (f) => {
      const res = await query(page * PAGE_ROWS, f);
      return {
        total: res.total,
        place: (map) => {
          map.set(page, res.rows);
          placeCursor(res);
        },
      };
    });
  }

  /**
   * Live-follow: one query for the newest rows, placed by position, then the
   * total moves, so the table scrolls once per refresh with its rows ready.
   */
  function fetchTail(): Promise<void> {
    return fetchRows('tail', async (f) => {
      const guess = Object.keys(f).length > 0 ? total.value : latestLogSize;
      let at = Math.max(0, guess - PAGE_ROWS);
      let res = await query(at, f);
      if (res.rows.length < Math.min(PAGE_ROWS, res.total) && res.total > at) {
        // The guess was past the end (rows left the filter): ask again at the real tail.
        at = Math.max(0, res.total - PAGE_ROWS);
        res = await query(at, f);
      }
      const place = (map: Map<number, FaultRow[]>): void =>
        res.rows.forEach((row, k) => {
          const pos = at + k;
          const p = Math.floor(pos / PAGE_ROWS);
          let cached = map.get(p);
          if (!cached) map.set(p, (cached = []));
          cached[pos % PAGE_ROWS] = row;
        });
      return { total: res.total, place };
    });
  }

  function visiblePages(): number[] {
    const out: number[] = [];
    const last = Math.min(visibleLast, Math.max(0, total.value - 1));
    for (let p = Math.floor(visibleFirst / PAGE_ROWS); p <= Math.floor(last / PAGE_ROWS); p++) {
      out.push(p);
    }
    return out;
  }

  function evict(): void {
    const map = pages.value;
    if (map.size <= MAX_CACHED_PAGES) return;
    const centre = Math.floor(visibleFirst / PAGE_ROWS);
    const byDistance = [...map.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const p of byDistance.slice(0, map.size - MAX_CACHED_PAGES)) map.delete(p);
  }

  /** The table reports which positions are on screen. */
  function setVisible(first: number, last: number): void {
    visibleFirst = Math.max(0, first);
    visibleLast = Math.max(visibleFirst, last);
    if (fetchTimer) clearTimeout(fetchTimer);
    fetchTimer = setTimeout(() => {
      fetchTimer = null;
      for (const p of visiblePages()) if (!pageComplete(p)) void fetchPage(p);
    }, FETCH_DEBOUNCE_MS);
  }

  /** True when every row of page `p` that exists (below the total) is cached. */
  function pageComplete(p: number): boolean {
    const rows = pages.value.get(p);
    if (!rows) return false;
    const want = Math.min(PAGE_ROWS, total.value - p * PAGE_ROWS);
    for (let i = 0; i < want; i++) if (rows[i] === undefined) return false;
    return true;
  }

  /** Re-fetch what is on screen (throttled): answers and new rows show up. */
  function refresh(now = false): void {
    if (refreshTimer) return;
    const wait = now ? 0 : Math.max(0, lastRefresh + REFRESH_MS - Date.now());
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      lastRefresh = Date.now();
      if (follow.value) return void fetchTail();
      const visible = visiblePages();
      if (visible.length === 0) visible.push(0);
      for (const p of visible) void fetchPage(p);
    }, wait);
  }

  function onFrame(f: Frame): void {
    // The total moves with the fetched rows (refresh), not every frame: the
    // table then re-renders a few times a second, however fast faults come.
    latestLogSize = f.logSize;
    const seen = {
      logSize: f.logSize,
      answered: f.totals.answered,
      dropped: f.logDropped,
    };
    if (
      seen.logSize !== lastSeen.logSize ||
      seen.answered !== lastSeen.answered ||
      seen.dropped !== lastSeen.dropped
    ) {
      lastSeen = seen;
      refresh();
    }
  }

  /**
   * Fetch the visible rows again. `keepRows` (after a reconnect) leaves the
   * old rows on screen until the new ones arrive, so the table never blanks.
   */
  function reload(keepRows = false): void {
    generation++;
    if (!keepRows) {
      pages.value = new Map();
      expanded.value = new Map();
    }
    lastSeen = { logSize: -1, answered: -1, dropped: -1 };
    refresh(true);
  }

  /** Returns an error message when the filter is invalid (nothing changes then). */
  function applyFilter(next: FaultFilter): string | null {
    try {
      validate(faultFilter, next, 'filter');
    } catch (err) {
      return errorMessage(err);
    }
    filter.value = next;
    setUrlFilterText(next.filter ?? '');
    cursor.value = 0;
    cursorGroup.value = null;
    cursorGone.value = false;
    selected.value = new Set();
    total.value = 0;
    reload();
    return null;
  }

  /**
   * Sort by `next` (null: group order). The cursor and the selection keep
   * their groups: the first query asks where the cursor's group went.
   */
  function applySort(next: FaultSort | null): void {
    sort.value = next;
    saveSort(next);
    if (next) {
      follow.value = false;
      cursorGroup.value ??= rowAt(cursor.value)?.group ?? null;
    }
    reload();
  }

  /** The display-filter text part of the filter ('' for none). */
  const filterText = computed(() => filter.value.filter ?? '');

  /** Sets the display-filter text, keeping the structured quick filters. */
  function applyFilterText(text: string): string | null {
    const rest: FaultFilter = { ...filter.value };
    delete rest.filter;
    return applyFilter(text.trim() ? { ...rest, filter: text.trim() } : rest);
  }

  /** The parts of the filter the quick-filter form does not own: the text and the time range. */
  function keptParts(): FaultFilter {
    const { filter: text, readMsMin, readMsMax } = filter.value;
    return {
      ...(text ? { filter: text } : {}),
      ...(readMsMin !== undefined ? { readMsMin } : {}),
      ...(readMsMax !== undefined ? { readMsMax } : {}),
    };
  }

  /** Sets the structured quick filters, keeping the display-filter text and the time range. */
  function applyStructured(next: FaultFilter): string | null {
    return applyFilter({ ...next, ...keptParts() });
  }

  /** Narrows the table to groups read in [fromMs, toMs] (session ms); null clears the range. */
  function applyTimeRange(range: { fromMs: number; toMs: number } | null): string | null {
    const rest: FaultFilter = { ...filter.value };
    delete rest.readMsMin;
    delete rest.readMsMax;
    if (!range) return applyFilter(rest);
    const fromMs = Math.max(0, Math.min(range.fromMs, range.toMs));
    const toMs = Math.max(0, range.fromMs, range.toMs);
    return applyFilter({ ...rest, readMsMin: fromMs, readMsMax: toMs });
  }

  /**
   * How many pending groups the filter matches now (what a filtered drain
   * would answer): the filter AND'ed with `state == pending`, one query.
   */
  async function pendingMatching(): Promise<number> {
    const text = filter.value.filter;
    const f: FaultFilter = {
      ...filter.value,
      filter: text ? `(${text}) && state == pending` : 'state == pending',
    };
    const res = await useCore().request('faults.query', { offset: 0, limit: 1, filter: f });
    return res.total;
  }

  /** Every loaded row with its table position. */
  function* loadedRows(): Generator<[number, FaultRow]> {
    for (const [p, rows] of pages.value) {
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k];
        if (row) yield [p * PAGE_ROWS + k, row];
      }
    }
  }

  function* loadedGroups(): Generator<[number, GroupId]> {
    for (const [pos, row] of loadedRows()) yield [pos, row.group];
  }

  /** The loaded position of `group`, whatever the order. */
  function locateLoaded(group: GroupId): number | undefined {
    for (const [pos, row] of loadedRows()) if (row.group === group) return pos;
    return undefined;
  }

  /** Where a group is (or would be, were it still in view), from the loaded rows (group order). */
  function locate(group: GroupId): { pos: number; gone: boolean } | undefined {
    return locateGroup(loadedGroups(), group, total.value);
  }

  /** After rows moved: the cursor and the expanded rows find their groups again. */
  function relocate(): void {
    if (follow.value) {
      cursor.value = Math.max(0, total.value - 1);
      cursorGroup.value = rowAt(cursor.value)?.group ?? null;
      cursorGone.value = false;
    } else if (cursorGroup.value === null) {
      cursorGroup.value = rowAt(cursor.value)?.group ?? null;
    } else if (sort.value) {
      // Sorted: the query's `locate` placed the cursor; a loaded row of its group refines it.
      const at = locateLoaded(cursorGroup.value);
      if (at !== undefined) {
        cursor.value = at;
        cursorGone.value = false;
      }
    } else if (rowAt(cursor.value)?.group !== cursorGroup.value || cursorGone.value) {
      const at = locate(cursorGroup.value);
      if (at) {
        cursor.value = at.pos;
        cursorGone.value = at.gone;
        if (at.gone && at.pos >= total.value) {
          // It was the last row: the cursor lands on the new last one.
          cursor.value = Math.max(0, total.value - 1);
          cursorGroup.value = rowAt(cursor.value)?.group ?? null;
          cursorGone.value = false;
        }
      }
    }
    let moved = false;
    const next = new Map<number, ExpandedGroup>();
    for (const [pos, e] of expanded.value) {
      if (rowAt(pos)?.group === e.group) {
        next.set(pos, e);
        continue;
      }
      moved = true;
      const at = sort.value ? locateLoaded(e.group) : locate(e.group)?.pos;
      if (at !== undefined && rowAt(at)?.group === e.group) next.set(at, e);
    }
    if (moved) expanded.value = next;
  }

  /** Put the cursor on table position `pos` (a click, Home). */
  function setCursor(pos: number): void {
    cursor.value = Math.min(Math.max(0, total.value - 1), Math.max(0, pos));
    cursorGroup.value = rowAt(cursor.value)?.group ?? null;
    cursorGone.value = false;
  }

  function moveCursor(delta: number): void {
    if (cursorGone.value) {
      // The row at `cursor` is the one after the group that left: one step down lands on it.
      cursorGone.value = false;
      if (delta > 0) delta--;
    }
    setCursor(cursor.value + delta);
    if (delta < 0) follow.value = false;
  }

  function toggleSelect(pos: number): void {
    const row = rowAt(pos);
    if (!row) return;
    const next = new Set(selected.value);
    if (next.has(row.group)) next.delete(row.group);
    else next.add(row.group);
    selected.value = next;
  }

  function clearSelection(): void {
    selected.value = new Set();
  }

  /**
   * The row under the cursor. When the cursor's group left the view, the row
   * now in its place (the one after it, marked on screen) is taken and the
   * cursor adopts it: s, s, s answers one group after the other, and s, j, s
   * the first two (j from a gone group lands on that row, see moveCursor).
   */
  function cursorRow(): FaultRow | undefined {
    const row = rowAt(cursor.value);
    if (!row) return undefined;
    if (cursorGone.value) {
      cursorGone.value = false;
      cursorGroup.value = row.group;
      return row;
    }
    return cursorGroup.value === null || row.group === cursorGroup.value ? row : undefined;
  }

  /** Selected groups, or the one under the cursor when nothing is selected. */
  function targetGroups(): GroupId[] {
    if (selected.value.size) return [...selected.value].sort(compareGroupIds);
    const row = cursorRow();
    return row && row.state === 'pending' ? [row.group] : [];
  }

  async function respond(code: 0 | 1): Promise<void> {
    const app = useAppStore();
    const groups = targetGroups();
    if (groups.length === 0) {
      app.notify('info', 'Nothing to answer: select pending groups (x or space) first.');
      return;
    }
    try {
      const out = await useCore().request('faults.respond', { groups, code });
      const word = code === 0 ? 'Success' : 'Invalid';
      if (out.ok.length) app.notify('info', `Answered ${out.ok.length} group(s) ${word}.`);
      for (const f of out.failed.slice(0, 3)) {
        app.notify('error', `Group #${f.group} not answered: ${f.message} (${f.code})`);
      }
      if (out.failed.length > 3)
        app.notify('error', `${out.failed.length - 3} more answers failed.`);
      // Answered now, or already (ESTALE): no longer something to select.
      const done = new Set([
        ...out.ok,
        ...out.failed.filter((f) => f.code === 'ESTALE').map((f) => f.group),
      ]);
      selected.value = new Set([...selected.value].filter((g) => !done.has(g)));
    } catch (err) {
      app.notify('error', `faults.respond: ${errorMessage(err)}`);
    }
    refresh(true);
  }

  async function drain(code: 0 | 1, scope: DrainScope): Promise<void> {
    const app = useAppStore();
    try {
      const params =
        scope === 'filter' && hasFilter.value ? { code, filter: filter.value } : { code };
      const out = await useCore().request('faults.drain', params);
      app.notify('info', `Drained ${out.answered} group(s) ${code === 0 ? 'Success' : 'Invalid'}.`);
      selected.value = new Set();
    } catch (err) {
      app.notify('error', `faults.drain: ${errorMessage(err)}`);
    }
    refresh(true);
  }

  async function openDetail(pos: number): Promise<void> {
    const row = rowAt(pos);
    if (!row) return;
    detailError.value = null;
    try {
      const d = await useCore().request('faults.detail', { group: row.group });
      detail.value = d;
      if (!d) detailError.value = `Group #${row.group} is no longer in the fault log.`;
    } catch (err) {
      detailError.value = errorMessage(err);
    }
  }

  function closeDetail(): void {
    detail.value = null;
    detailError.value = null;
  }

  async function toggleExpand(pos: number): Promise<void> {
    const row = rowAt(pos);
    if (!row) return;
    const next = new Map(expanded.value);
    if (next.has(pos)) {
      next.delete(pos);
      expanded.value = next;
      return;
    }
    const entry: ExpandedGroup = { group: row.group, pages: null, error: null };
    next.set(pos, entry);
    expanded.value = next;
    try {
      const d = await useCore().request('faults.detail', { group: row.group });
      if (d) entry.pages = d.pages;
      else entry.error = 'no longer in the fault log';
    } catch (err) {
      entry.error = errorMessage(err);
    }
    expanded.value = new Map(expanded.value);
  }

  /** Expanded groups' extra display lines (one per page, or one for its loading/error line). */
  const expandedLines = computed(
    () => new Map([...expanded.value].map(([pos, e]) => [pos, e.pages?.length ?? 1])),
  );
  /** Lines the table shows: one per group plus one per page of an expanded group. */
  const displayCount = computed(() => displayLineCount(total.value, expandedLines.value));
  /** Display line → table position and page (-1 = the group line itself). */
  const lineAt = (line: number) => lineAtOf(line, expandedLines.value);
  /** Table position → its display line. */
  const lineOf = (pos: number) => lineOfIn(pos, expandedLines.value);

  return {
    filter,
    sort,
    applySort,
    total,
    pages,
    follow,
    cursor,
    cursorGroup,
    cursorGone,
    selected,
    expanded,
    detail,
    detailError,
    hasFilter,
    displayCount,
    rowAt,
    setVisible,
    refresh,
    onFrame,
    reload,
    applyFilter,
    filterText,
    applyFilterText,
    applyStructured,
    applyTimeRange,
    pendingMatching,
    moveCursor,
    setCursor,
    relocate,
    toggleSelect,
    clearSelection,
    respond,
    drain,
    openDetail,
    closeDetail,
    toggleExpand,
    lineAt,
    lineOf,
  };
});
