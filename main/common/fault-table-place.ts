// Where things are in the fault table, as pure functions of what the
// renderer has loaded: a group's position when rows have moved (the cursor
// and expanded rows follow groups, not positions), and the mapping between
// table positions and display lines when expanded groups add a line per page.
import { compareGroupIds, type GroupId } from './contract';

/**
 * Where `group` is among the loaded rows (table position → group id, in group
 * order), or where it would be if it has left the view: `gone` then, and
 * `pos` is the row now in its place (the one after it). Undefined when the
 * loaded rows cannot tell (its neighbours are not loaded).
 */
export function locateGroup(
  loaded: Iterable<[pos: number, group: GroupId]>,
  group: GroupId,
  total: number,
): { pos: number; gone: boolean } | undefined {
  let after: number | undefined;
  let before = -1;
  for (const [pos, g] of loaded) {
    const c = compareGroupIds(g, group);
    if (c === 0) return { pos, gone: false };
    if (c > 0 && (after === undefined || pos < after)) after = pos;
    if (c < 0 && pos > before) before = pos;
  }
  // Gone: its place is right after the last row before it, if that is the row before the first after it.
  if (after !== undefined && before === after - 1) return { pos: after, gone: true };
  if (after === 0) return { pos: 0, gone: true };
  if (after === undefined && before >= 0 && before === total - 1) return { pos: total, gone: true };
  return undefined;
}

/** Expanded groups: table position → the extra display lines under it (one per page). */
export type ExpandedLines = ReadonlyMap<number, number>;

/** Display lines: one per group plus the extra lines of expanded groups. */
export function displayLineCount(total: number, expanded: ExpandedLines): number {
  let extra = 0;
  for (const n of expanded.values()) extra += n;
  return total + extra;
}

/** Display line → table position and page under it (-1: the group line itself). */
export function lineAt(line: number, expanded: ExpandedLines): { pos: number; page: number } {
  let shift = 0;
  for (const [pos, extra] of [...expanded].sort((a, b) => a[0] - b[0])) {
    if (line <= pos + shift) break;
    if (line <= pos + shift + extra) return { pos, page: line - pos - shift - 1 };
    shift += extra;
  }
  return { pos: line - shift, page: -1 };
}

/** Table position → its display line. */
export function lineOf(pos: number, expanded: ExpandedLines): number {
  let shift = 0;
  for (const [p, extra] of expanded) if (p < pos) shift += extra;
  return pos + shift;
}
