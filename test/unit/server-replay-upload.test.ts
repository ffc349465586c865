// Browser mode's recording upload at the HTTP level, on a real server and
// core: POST <appPath>upload/recording with the token opens the recording
// as the replay session; over the cap is 413 (declared or streamed) with
// nothing kept; no token 401, a foreign Origin 403, GET 405, a damaged file
// 422 naming the byte offset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { UPLOAD_ROUTE } from '../../main/common/replay-contract';
import { CoreService } from '../../main/node/dashboard/core-service';
import {
  startDashboardServer,
  type DashboardServer,
} from '../../main/node/server/dashboard-server';
import { recordSession } from '../shared/recorded-session';
import { staticHost } from '../shared/core-client';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-upload-'));
const recDir = path.join(dir, 'recordings');
const rec = recordSession(path.join(dir, 'src.pcapng.gz'), 6, 20);
const bytes = readFileSync(rec.file);
const CAP = bytes.length + 100;
const TOKEN = 'test-token-0123456789';
let core: CoreService;
let server: DashboardServer;

before(async () => {
  core = new CoreService({
    version: 'test',
    mode: 'browser',
    recordingDir: recDir,
    maxUploadBytes: CAP,
    host: staticHost(),
  });
  server = await startDashboardServer({
    core,
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererDir: dir,
  });
});

after(async () => {
  await server.close();
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: string;
  json: { code?: string; message?: string; source?: string; file?: string } | null;
}

function post(
  body: Buffer | Buffer[],
  opts: { token?: string | null; origin?: string; method?: string; name?: string } = {},
): Promise<Reply> {
  const query = new URLSearchParams({ name: opts.name ?? 'dropped.pcapng.gz' });
  if (opts.token !== null) query.set('token', opts.token ?? TOKEN);
  const chunked = Array.isArray(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: opts.method ?? 'POST',
        path: `${server.appPath}${UPLOAD_ROUTE}?${query.toString()}`,
        headers: {
          'Content-Type': 'application/octet-stream',
          ...(chunked ? {} : { 'Content-Length': String(body.length) }),
          ...(opts.origin ? { Origin: opts.origin } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: Reply['json'];
          try {
            json = JSON.parse(text) as Reply['json'];
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, body: text, json });
        });
      },
    );
    req.on('error', reject);
    if (opts.method === 'GET') return void req.end();
    if (chunked) for (const b of body) req.write(b);
    else req.write(body);
    req.end();
  });
}

const saved = (): string[] => readdirSync(recDir).filter((f) => !f.startsWith('.'));

test('upload: a recording POSTed with the token opens as the replay session', async () => {
  const r = await post(bytes, { name: 'my bench run.pcapng.gz' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json?.source, 'replay');
  assert.match(r.json?.file ?? '', /^my_bench_run-[0-9a-f]{8}\.pcapng\.gz$/);
  assert.deepEqual(saved(), [r.json!.file]);
  assert.deepEqual(readFileSync(path.join(recDir, r.json!.file!)), bytes);
  assert.equal(core.sessionState().source, 'replay');
});

test('upload: over the cap is 413 whether declared or streamed, and nothing is kept', async () => {
  const before = saved();
  const declared = await post(Buffer.concat([bytes, Buffer.alloc(101)]));
  assert.equal(declared.status, 413);
  assert.equal(declared.json?.code, 'ETOOLARGE');
  assert.match(declared.json?.message ?? '', new RegExp(`over the ${CAP}-byte upload limit`));
  // Chunked: no Content-Length, the cap is found while streaming.
  const streamed = await post([bytes, Buffer.alloc(200)]);
  assert.equal(streamed.status, 413);
  assert.equal(streamed.json?.code, 'ETOOLARGE');
  assert.deepEqual(saved(), before);
  assert.deepEqual(
    readdirSync(recDir).filter((f) => f.startsWith('.')),
    [],
    'no partial files left',
  );
});

test('upload: no token 401, foreign Origin 403, GET 405', async () => {
  assert.equal((await post(bytes, { token: null })).status, 401);
  assert.equal((await post(bytes, { token: 'wrong' })).status, 401);
  assert.equal((await post(bytes, { origin: 'http://evil.example' })).status, 403);
  assert.equal((await post(Buffer.alloc(0), { method: 'GET' })).status, 405);
  const own = await post(bytes, { origin: `http://127.0.0.1:${server.port}` });
  assert.equal(own.status, 200, own.body);
});

test('upload: a damaged file is 422 naming the byte offset, and is not kept', async () => {
  const before = saved();
  const damaged = Buffer.from(bytes);
  damaged[30]! ^= 0xff;
  const r = await post(damaged, { name: 'broken.pcapng.gz' });
  assert.equal(r.status, 422, r.body);
  assert.equal(r.json?.code, 'ECORRUPT');
  assert.match(r.json?.message ?? '', /^broken-[0-9a-f]{8}\.pcapng\.gz: .*byte \d+/);
  assert.deepEqual(saved(), before);
});
