// Recent errors stay until dismissed (they used to be shown for one frame
// while totals.errors kept counting): ids in order, bounded, dismiss up to an id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECENT_ERRORS, RecentErrors } from '../../main/node/dashboard/recent-errors';

const err = (n: number) => ({ at: n, group: String(n), cookie: n, code: 'EIO', message: `e${n}` });

test('errors stay in every snapshot until dismissed', () => {
  const r = new RecentErrors();
  r.add(err(1));
  r.add(err(2));
  assert.deepEqual(
    r.snapshot().map((e) => e.id),
    [1, 2],
  );
  assert.deepEqual(
    r.snapshot().map((e) => e.id),
    [1, 2],
    'a second frame still carries them',
  );
  r.dismiss(1);
  assert.deepEqual(
    r.snapshot().map((e) => e.message),
    ['e2'],
  );
  r.dismiss(0);
  assert.equal(r.snapshot().length, 1, 'dismissing up to an older id removes nothing more');
  r.dismiss(2);
  assert.deepEqual(r.snapshot(), []);
  r.add(err(3));
  assert.equal(r.snapshot()[0]!.id, 3, 'ids keep counting after a dismiss');
});

test(`bounded: past ${MAX_RECENT_ERRORS} the oldest fall off`, () => {
  const r = new RecentErrors();
  for (let i = 1; i <= MAX_RECENT_ERRORS + 7; i++) r.add(err(i));
  const s = r.snapshot();
  assert.equal(s.length, MAX_RECENT_ERRORS);
  assert.equal(s[0]!.id, 8);
  assert.equal(s.at(-1)!.id, MAX_RECENT_ERRORS + 7);
});
