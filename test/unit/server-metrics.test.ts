// The /metrics hook in the browser-mode server: Bearer token for /metrics
// only; the token in a header does not open the dashboard, and the
// dashboard's URL token or cookie does not open /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import http from 'node:http';
import { startDashboardServer } from '../../main/node/server/dashboard-server';
import type { CoreService } from '../../main/node/dashboard/core-service';
import { FaultMetrics } from '../../main/node/metrics/fault-metrics';
import { ContractQueue } from '../shared/contract-batches';
import { samples, sum } from '../shared/exposition';

/** The server only subscribes to the core's events here; nothing is dispatched. */
const quietCore = { subscribe: () => () => {}, handlers: {} } as unknown as CoreService;

test('serve: /metrics answers a Bearer token with the core registry; nothing else changes', async () => {
  const metrics = new FaultMetrics();
  const q = new ContractQueue(1);
  q.answer({ group: q.read({ pages: 2 }), code: 0, by: 1 });
  metrics.observe(q.flush());
  const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-srv-'));
  const server = await startDashboardServer({
    core: quietCore,
    host: '127.0.0.1',
    port: 0,
    token: 'tok',
    rendererDir: dir,
    metrics: metrics.registry,
  });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const ok = await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer tok' } });
    assert.equal(ok.status, 200);
    assert.equal(sum(samples(await ok.text()), 'iommuscope_page_requests_total'), 2);
    assert.equal(
      (await fetch(`${base}/metrics?token=tok`)).status,
      401,
      'the URL token is for the dashboard',
    );
    const page = await fetch(`${base}/`, { headers: { Authorization: 'Bearer tok' } });
    assert.equal(page.status, 401, 'a Bearer header does not open the dashboard');
    // fetch cannot set Host; a raw request can.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/metrics',
          headers: { Host: 'evil.example:80', Authorization: 'Bearer tok' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
    });
    assert.equal(status, 403, 'DNS-rebinding check first');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const without = await startDashboardServer({
    core: quietCore,
    host: '127.0.0.1',
    port: 0,
    token: 'tok',
    rendererDir: dir,
  });
  try {
    const r = await fetch(`http://127.0.0.1:${without.port}/metrics`, {
      headers: { Authorization: 'Bearer tok' },
    });
    assert.equal(r.status, 401, 'no registry given: /metrics is an ordinary (unauthorised) path');
  } finally {
    await without.close();
  }
});
