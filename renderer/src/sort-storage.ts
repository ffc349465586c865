// The fault table's sort, kept in localStorage with the other table
// preferences' spirit: a broken or foreign value is ignored, never trusted.
import { faultSort, type FaultSort } from '../../main/common/contract';

const SORT_KEY = 'iommuscope.faultTable.sort';

export function loadSort(): FaultSort | null {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(SORT_KEY) ?? 'null');
    return v !== null && faultSort.check(v, 'sort') === undefined ? (v as FaultSort) : null;
  } catch {
    return null;
  }
}

export function saveSort(sort: FaultSort | null): void {
  try {
    if (sort) localStorage.setItem(SORT_KEY, JSON.stringify(sort));
    else localStorage.removeItem(SORT_KEY);
  } catch {
    // Storage unavailable: the sort lasts for this page.
  }
}
