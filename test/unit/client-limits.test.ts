// The per-client request budget of browser mode, and exact loopback checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientBudget, peekRequestId } from '../../main/node/server/client-limits';
import { isLoopback } from '../../main/node/cli/dashboard-args';

test('ClientBudget: admits up to the in-flight limit, refuses with EBUSY naming it, admits again after done()', () => {
  const b = new ClientBudget(2, 1000);
  assert.equal(b.admit('{"id":1}', 0), undefined);
  assert.equal(b.admit('{"id":2}', 0), undefined);
  const refused = b.admit('{"id":3,"method":"x"}', 0);
  assert.deepEqual(refused && { id: refused.id, ok: refused.ok }, { id: 3, ok: false });
  assert.match(JSON.stringify(refused), /EBUSY.*too many requests in flight \(2 per client\)/);
  b.done();
  assert.equal(b.admit('{"id":4}', 0), undefined);
  assert.equal(b.pending, 2);
});

test('ClientBudget: refuses while too many answer bytes are queued', () => {
  const b = new ClientBudget(10, 1 << 20);
  const r = b.admit('{"id":9}', 5 << 20);
  assert.match(JSON.stringify(r), /5 MiB of answers are still waiting.*limit 1 MiB/);
  assert.equal(b.pending, 0, 'a refused request is not in flight');
});

test('peekRequestId: the id of a raw message, -1 when there is none', () => {
  assert.equal(peekRequestId('{"id": 42, "method":"faults.query"}'), 42);
  assert.equal(peekRequestId('{"method":"x"}'), -1);
  assert.equal(peekRequestId('not json'), -1);
});

test('isLoopback: exact addresses only', () => {
  for (const h of [
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])
    assert.equal(isLoopback(h), true, h);
  for (const h of [
    '127.evil.example',
    '127.0.0.1.evil',
    'localhost.evil',
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '::ffff:10.0.0.1',
    '1::1',
    '127.0.0.1 ',
    '',
  ])
    assert.equal(isLoopback(h), false, h);
});
