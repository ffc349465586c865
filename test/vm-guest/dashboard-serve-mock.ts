// Inside the VM (-i none): `iommuscope serve --source mock` driven over its
// WebSocket like the renderer does: app.info probes the real /dev/iommu,
// faults injected with TRIGGER_IOPF show up in the log, user answers reach
// the kernel, SIGINT drains the rest and the process exits 0 with pending 0.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import type { AppInfo, FaultRow, ResponseEnvelope } from '../../main/common/contract';
import type { IommufdObjects } from '../../main/common/iommufd-objects';
import { CLI_START_MS, facts, finish, step, waitFor } from './guest-steps';

async function main(): Promise<void> {
  const proc = spawn(
    process.execPath,
    ['bin/iommuscope.js', 'serve', '--port', '0', '--source', 'mock', '--policy', 'hold'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (l) => lines.push(l));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  // Slowness, not a kernel difference: under TCG on a loaded 2-core host the
  // URL came after 16-63 s on 7.3 and 27-41 s on 6.12 (a 20 s wait failed).
  const t0 = Date.now();
  await waitFor('the URL line', () => lines.length > 0, CLI_START_MS);
  facts.urlAfterMs = Date.now() - t0;
  const url = new URL(lines[0]!);
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const replies = new Map<number, ResponseEnvelope>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as ResponseEnvelope | { event: string };
    if ('id' in m) replies.set(m.id, m);
  });
  let id = 1;
  const call = async <T>(method: string, params: unknown): Promise<T> => {
    const n = id++;
    ws.send(JSON.stringify({ id: n, method, params }));
    await waitFor(method, () => replies.has(n));
    const r = replies.get(n)!;
    if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.result as T;
  };

  await step('app.info: /dev/iommu usable and the selftest mock available', async () => {
    const info = await call<AppInfo>('app.info', {});
    facts.appInfo = info;
    if (info.iommuProblem !== null || !info.mockAvailable) throw new Error(JSON.stringify(info));
  });
  await step('session.state: the mock session opened at start', async () => {
    const s = await call<{ source: string }>('session.state', {});
    if (s.source !== 'mock') throw new Error(`source ${s.source}; stderr: ${stderr}`);
  });
  await step('topology.objects: the mock device node carries its decoded GET_HW_INFO', async () => {
    const objs = await call<IommufdObjects>('topology.objects', {});
    const dev = objs.nodes.find((n) => n.type === 'device');
    const hw = dev?.type === 'device' ? dev.hwInfo : undefined;
    facts.mockHwInfo = hw;
    if (
      !hw ||
      'error' in hw ||
      hw.type !== 'iommufd selftest' ||
      hw.fields.testReg !== '0xdeadbeef'
    )
      throw new Error(JSON.stringify(dev));
  });
  let pending: FaultRow[] = [];
  await step('inject.start: 20 page requests via TRIGGER_IOPF reach the log, pending', async () => {
    await call('inject.start', { spec: 'count=20,pasids=1-4,perm=rw' });
    for (let i = 0; i < 500 && pending.length < 20; i++) {
      pending = (
        await call<{ rows: FaultRow[] }>('faults.query', {
          offset: 0,
          limit: 100,
          filter: { state: 'pending' },
        })
      ).rows;
      await new Promise((r) => setTimeout(r, 20));
    }
    facts.pendingSeen = pending.length;
    if (pending.length !== 20) throw new Error(`${pending.length} pending`);
  });
  await step('faults.respond: 5 answered by the user; again → stale', async () => {
    const groups = pending.slice(0, 5).map((r) => r.group);
    const r = await call<{ ok: string[]; failed: unknown[] }>('faults.respond', {
      groups,
      code: 0,
    });
    if (r.ok.length !== 5) throw new Error(JSON.stringify(r));
    const again = await call<{ ok: string[]; failed: { code: string }[] }>('faults.respond', {
      groups: groups.slice(0, 1),
      code: 0,
    });
    facts.staleCode = again.failed[0]?.code;
    if (again.ok.length !== 0 || again.failed.length !== 1) throw new Error(JSON.stringify(again));
  });
  await step('faults.detail: raw 40-byte records of a real kernel group', async () => {
    const d = await call<{ pages: { raw: string; permNames: string[] }[] }>('faults.detail', {
      group: pending[7]!.group,
    });
    if (d.pages.length !== 1 || d.pages[0]!.raw.length !== 80) throw new Error(JSON.stringify(d));
  });
  await step('SIGINT: drains the 15 left (invalid), exit 0, pending 0', async () => {
    proc.kill('SIGINT');
    const code = await exit;
    const summary = JSON.parse(lines.at(-1)!) as {
      pending: number;
      by: { user: number; drain: number; kernel: number };
    };
    facts.summary = summary;
    if (code !== 0 || summary.pending !== 0 || summary.by.user !== 5 || summary.by.drain !== 15) {
      throw new Error(`exit ${code}: ${lines.at(-1)} ${stderr}`);
    }
  });
  ws.terminate();
  finish();
}

void main();
