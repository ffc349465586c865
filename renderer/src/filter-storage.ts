// Recent and saved display filters, kept in localStorage (per browser
// profile). Bounded: a few recent texts, a few dozen named ones. A broken or
// foreign value in storage is ignored, never trusted.
const RECENT_KEY = 'iommuscope.filters.recent';
const SAVED_KEY = 'iommuscope.filters.saved';
export const MAX_RECENT = 10;
export const MAX_SAVED = 50;
const MAX_TEXT = 4096;

export interface SavedFilter {
  name: string;
  text: string;
}

function load(key: string): unknown {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function store(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: history is a convenience, the filter still applies.
  }
}

export function recentFilters(): string[] {
  const v = load(RECENT_KEY);
  if (!Array.isArray(v)) return [];
  return v
    .filter((t): t is string => typeof t === 'string' && t.length <= MAX_TEXT)
    .slice(0, MAX_RECENT);
}

/** Puts `text` first in the recent list (once). */
export function rememberFilter(text: string): string[] {
  const t = text.trim();
  if (!t) return recentFilters();
  const next = [t, ...recentFilters().filter((r) => r !== t)].slice(0, MAX_RECENT);
  store(RECENT_KEY, next);
  return next;
}

export function savedFilters(): SavedFilter[] {
  const v = load(SAVED_KEY);
  if (!Array.isArray(v)) return [];
  return v
    .filter(
      (s): s is SavedFilter =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as SavedFilter).name === 'string' &&
        typeof (s as SavedFilter).text === 'string',
    )
    .slice(0, MAX_SAVED);
}

/** Saves (or replaces) a named filter; returns an error message when it cannot. */
export function saveFilter(name: string, text: string): string | null {
  const n = name.trim();
  if (!n) return 'give the filter a name';
  if (n.length > 64) return 'the name is longer than 64 characters';
  const rest = savedFilters().filter((s) => s.name !== n);
  if (rest.length >= MAX_SAVED) return `at most ${MAX_SAVED} saved filters: delete one first`;
  store(
    SAVED_KEY,
    [...rest, { name: n, text: text.trim() }].sort((a, b) => a.name.localeCompare(b.name)),
  );
  return null;
}

export function deleteSavedFilter(name: string): void {
  store(
    SAVED_KEY,
    savedFilters().filter((s) => s.name !== name),
  );
}
