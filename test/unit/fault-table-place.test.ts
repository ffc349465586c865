// The fault table's placement rules: a group found among loaded rows, or
// where it was when it has left the view (answered under a state filter);
// undefined when its neighbours are not loaded; display lines with expanded
// groups, both ways, round-tripping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayLineCount, lineAt, lineOf, locateGroup } from '../../main/common/fault-table-place';

const rows = (entries: [number, string][]) => entries;

test('locateGroup: a loaded group is found at its position', () => {
  const loaded = rows([
    [0, '5'],
    [1, '9'],
    [2, '12'],
  ]);
  assert.deepEqual(locateGroup(loaded, '9', 3), { pos: 1, gone: false });
  // Numeric order on the decimal strings: '12' sorts after '9'.
  assert.deepEqual(locateGroup(loaded, '12', 3), { pos: 2, gone: false });
});

test('locateGroup: a group that left the view is placed at the row after it', () => {
  // #9 was answered under state=pending: #5 then #12 are adjacent now.
  const loaded = rows([
    [0, '5'],
    [1, '12'],
  ]);
  assert.deepEqual(locateGroup(loaded, '9', 2), { pos: 1, gone: true });
  // Before the first row.
  assert.deepEqual(locateGroup(loaded, '3', 2), { pos: 0, gone: true });
  // After the last row of the whole table.
  assert.deepEqual(locateGroup(loaded, '20', 2), { pos: 2, gone: true });
});

test('locateGroup: negative: neighbours not loaded, or the last loaded row is not the last row', () => {
  // Rows 0 and 5 loaded, 1..4 not: #9 could be anywhere between.
  const gap = rows([
    [0, '5'],
    [5, '30'],
  ]);
  assert.equal(locateGroup(gap, '9', 6), undefined);
  // Past the last loaded row, but the table has more rows than are loaded.
  assert.equal(locateGroup(rows([[0, '5']]), '9', 10), undefined);
  assert.equal(locateGroup([], '9', 0), undefined);
});

test('display lines: no expansion is one line per group', () => {
  const none = new Map<number, number>();
  assert.equal(displayLineCount(7, none), 7);
  assert.deepEqual(lineAt(4, none), { pos: 4, page: -1 });
  assert.equal(lineOf(4, none), 4);
});

test('display lines: expanded groups add their pages below them, both ways', () => {
  // Group at position 1 shows 3 pages, position 4 shows 2 (maps unordered on purpose).
  const expanded = new Map([
    [4, 2],
    [1, 3],
  ]);
  assert.equal(displayLineCount(6, expanded), 11);
  const want = [
    { pos: 0, page: -1 },
    { pos: 1, page: -1 },
    { pos: 1, page: 0 },
    { pos: 1, page: 1 },
    { pos: 1, page: 2 },
    { pos: 2, page: -1 },
    { pos: 3, page: -1 },
    { pos: 4, page: -1 },
    { pos: 4, page: 0 },
    { pos: 4, page: 1 },
    { pos: 5, page: -1 },
  ];
  assert.deepEqual(
    want.map((_, line) => lineAt(line, expanded)),
    want,
  );
  // Every group line maps back to itself.
  for (let line = 0; line < want.length; line++) {
    const at = lineAt(line, expanded);
    if (at.page === -1) assert.equal(lineOf(at.pos, expanded), line);
  }
});
