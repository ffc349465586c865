// The shared request path: every malformed message gets an error naming the
// field, nothing throws, and a good request still works after bad ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MESSAGE_BYTES, requests } from '../../main/common/contract';
import {
  dispatch,
  dispatchText,
  dispatchValue,
  RequestError,
  type Handlers,
  type RequestContext,
} from '../../main/node/dashboard/dispatch';

const ctx: RequestContext = { client: 'test', emit: () => {} };
const calls: string[] = [];

/** Every handler records its call; faults.query echoes its params. */
const handlers = Object.fromEntries(
  Object.keys(requests).map((name) => [
    name,
    async (params: unknown) => {
      calls.push(name);
      if (name === 'inject.stop') throw new RequestError('ENOSESSION', 'no session');
      if (name === 'inject.start') throw new Error('boom');
      return { echo: params };
    },
  ]),
) as unknown as Handlers;

test('a valid request reaches its handler and answers with the same id', async () => {
  const r = await dispatchText(
    handlers,
    JSON.stringify({ id: 7, method: 'faults.query', params: { offset: 0, limit: 5 } }),
    ctx,
  );
  assert.deepEqual(r, { id: 7, ok: true, result: { echo: { offset: 0, limit: 5 } } });
  const noParams = await dispatch(handlers, { id: 8, method: 'app.info' }, ctx);
  assert.equal(noParams.ok, true, 'params may be left out when the method has none');
});

test('malformed JSON → EPARSE with id -1', async () => {
  const r = await dispatchText(handlers, '{"id":1,', ctx);
  assert.equal(r.id, -1);
  assert.equal(!r.ok && r.error.code, 'EPARSE');
});

test('bad envelopes name the field', async () => {
  const cases: [unknown, RegExp][] = [
    [[], /message: expected an object/],
    [{ method: 'app.info' }, /message\.id: expected a finite number/],
    [{ id: -1, method: 'app.info' }, /message\.id: -1 is outside/],
    [{ id: 1.5, method: 'app.info' }, /message\.id: expected an integer/],
    [{ id: 1, method: 3 }, /message\.method: expected a string/],
    [{ id: 1, method: 'app.info', extra: 1 }, /message\.extra: unknown field/],
    [{ id: 1, method: 'app.info', params: 'x' }, /message\.params: expected params/],
  ];
  for (const [msg, re] of cases) {
    const r = await dispatch(handlers, msg, ctx);
    assert.equal(!r.ok && r.error.code, 'EENVELOPE', JSON.stringify(msg));
    assert.match(!r.ok ? r.error.message : '', re);
  }
});

test('unknown method → EMETHOD; prototype names are not methods', async () => {
  for (const method of ['faults.nuke', 'constructor', '__proto__', 'toString']) {
    const r = await dispatch(handlers, { id: 2, method }, ctx);
    assert.equal(!r.ok && r.error.code, 'EMETHOD', method);
    assert.equal(r.id, 2);
  }
});

test('bad params → EPARAMS naming the field; the handler is not called', async () => {
  calls.length = 0;
  const cases: [string, unknown, RegExp][] = [
    ['faults.query', { offset: 0 }, /params\.limit: expected a finite number/],
    ['faults.query', { offset: 0, limit: 1001 }, /params\.limit: 1001 is outside 1\.\.1000/],
    ['faults.query', { offset: 0, limit: 1, filter: { perm: 'z' } }, /params\.filter\.perm/],
    ['faults.respond', { groups: ['1', '-2'], code: 0 }, /params\.groups\[1\]/],
    ['faults.respond', { groups: [1], code: 0 }, /params\.groups\[0\]: expected a string/],
    ['faults.respond', { groups: ['012'], code: 0 }, /params\.groups\[0\]/],
    ['faults.respond', { groups: ['123456789012345678901'], code: 0 }, /longer than 20/],
    ['faults.respond', { cookies: [1], code: 0 }, /params\.cookies: unknown field/],
    ['faults.respond', { groups: ['1'], code: 2 }, /params\.code: expected 0 or 1/],
    ['faults.detail', { cookie: 1 }, /params\.cookie: unknown field/],
    ['faults.detail', { group: '1e3' }, /params\.group/],
    ['session.open', { source: 'usb' }, /params\.source: expected one of sim, mock, iommufd/],
    ['session.open', { source: 'iommufd', device: '/etc/passwd' }, /params\.device/],
    ['app.info', { sneaky: true }, /params\.sneaky: unknown field/],
  ];
  for (const [method, params, re] of cases) {
    const r = await dispatch(handlers, { id: 3, method, params }, ctx);
    assert.equal(!r.ok && r.error.code, 'EPARAMS', `${method} ${JSON.stringify(params)}`);
    assert.match(!r.ok ? r.error.message : '', re);
  }
  assert.deepEqual(calls, []);
});

test('handler errors keep their code; unexpected ones are EINTERNAL, never a throw', async () => {
  const a = await dispatch(handlers, { id: 4, method: 'inject.stop' }, ctx);
  assert.deepEqual(a, { id: 4, ok: false, error: { code: 'ENOSESSION', message: 'no session' } });
  const b = await dispatch(handlers, { id: 5, method: 'inject.start', params: { spec: 'x' } }, ctx);
  assert.deepEqual(b, { id: 5, ok: false, error: { code: 'EINTERNAL', message: 'boom' } });
});

test('oversized messages → ETOOBIG (text and structured), and the next request works', async () => {
  const big = JSON.stringify({
    id: 6,
    method: 'app.info',
    params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) },
  });
  const r = await dispatchText(handlers, big, ctx);
  assert.equal(!r.ok && r.error.code, 'ETOOBIG');
  const s = await dispatchValue(
    handlers,
    { id: 6, method: 'app.info', params: { pad: 'é'.repeat(MAX_MESSAGE_BYTES / 2) } },
    ctx,
  );
  assert.equal(!s.ok && s.error.code, 'ETOOBIG', 'measured in UTF-8 bytes');
  assert.equal(s.id, 6);
  const cyclic: Record<string, unknown> = { id: 9, method: 'app.info' };
  cyclic.params = cyclic;
  const c = await dispatchValue(handlers, cyclic, ctx);
  assert.equal(!c.ok && c.error.code, 'EPARSE');
  const after = await dispatchText(handlers, '{"id":10,"method":"app.info"}', ctx);
  assert.equal(after.ok, true);
});
