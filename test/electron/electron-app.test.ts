// The Electron shell. Without an Electron binary (this machine cannot
// download one) the app launch skips and says why; the security
// configuration, the preload bridge, app:// and the quit prompt are plain
// data and functions, tested here in Node without Electron.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channelSwitch, ipcChannels } from '../../main/common/ipc-channels';
import {
  ELECTRON_CSP,
  isAllowedNavigation,
  isTrustedSender,
  permissionAllowed,
  secureWebPreferences,
} from '../../main/electron-main/security';
import { buildBridge, readChannels } from '../../main/electron-main/preload';
import { appProtocolResponse } from '../../main/electron-main/app-protocol';
import { appArgs, quitChoice, quitPrompt, QUIT_BUTTONS } from '../../main/electron-main/quit';
import { findElectronBinary } from '../../main/node/electron-binary';

const distMain = path.resolve(__dirname, '..', '..', 'main', 'electron-main');

test('webPreferences: the Electron security checklist', () => {
  const wp = secureWebPreferences('/x/preload.js');
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.nodeIntegrationInWorker, false);
  assert.equal(wp.nodeIntegrationInSubFrames, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.allowRunningInsecureContent, false);
  assert.equal(wp.webviewTag, false);
  assert.equal(wp.preload, '/x/preload.js');
  assert.equal(path.basename(secureWebPreferences().preload!), 'preload.js');
});

test('CSP: own scripts only, no framing, no plugins', () => {
  assert.match(ELECTRON_CSP, /default-src 'self'/);
  assert.match(ELECTRON_CSP, /script-src 'self'(;|$)/);
  assert.match(ELECTRON_CSP, /object-src 'none'/);
  assert.match(ELECTRON_CSP, /frame-ancestors 'none'/);
  assert.doesNotMatch(ELECTRON_CSP, /unsafe-eval/);
});

test('one request channel and one event channel, passed to the sandboxed preload', () => {
  assert.deepEqual(Object.keys(ipcChannels).sort(), ['event', 'request']);
  assert.notEqual(ipcChannels.request, ipcChannels.event);
  assert.deepEqual(readChannels(['electron', channelSwitch()]), { ...ipcChannels });
  assert.throws(() => readChannels(['electron']), /no IPC channel names/);
});

test('navigation: only our app:// origin', () => {
  assert.ok(isAllowedNavigation('app://iommuscope/index.html'));
  assert.ok(isAllowedNavigation('app://iommuscope/#/faults'));
  for (const bad of [
    'https://example.com/',
    'file:///etc/passwd',
    'app://evil/index.html',
    'javascript:alert(1)',
    'http://127.0.0.1:7420/',
    'not a url',
  ]) {
    assert.equal(isAllowedNavigation(bad), false, bad);
  }
});

test('IPC sender check: main window top frame on app:// only', () => {
  const good = { webContentsId: 3, frameUrl: 'app://iommuscope/index.html', isMainFrame: true };
  assert.equal(isTrustedSender(good, 3), true);
  assert.equal(isTrustedSender({ ...good, webContentsId: 4 }, 3), false, 'another window');
  assert.equal(isTrustedSender(good, undefined), false, 'no main window');
  assert.equal(isTrustedSender({ ...good, isMainFrame: false }, 3), false, 'an iframe');
  assert.equal(isTrustedSender({ ...good, frameUrl: undefined }, 3), false, 'a detached frame');
  assert.equal(isTrustedSender({ ...good, frameUrl: 'https://evil.example/' }, 3), false);
  assert.equal(isTrustedSender({ ...good, frameUrl: 'file:///tmp/x.html' }, 3), false);
});

test('every permission request is denied', () => {
  for (const p of [
    'media',
    'notifications',
    'geolocation',
    'clipboard-read',
    'hid',
    'openExternal',
  ]) {
    assert.equal(permissionAllowed(p), false, p);
  }
});

test('preload bridge: request/on over the two channels, errors carry the code', async () => {
  const handlers = new Map<string, (e: unknown, env: unknown) => void>();
  const invoked: { channel: string; envelope: { id: number; method: string; params: unknown } }[] =
    [];
  const ipc = {
    on(channel: string, fn: (e: unknown, env: unknown) => void) {
      handlers.set(channel, fn);
      return ipc;
    },
    async invoke(channel: string, envelope: { id: number; method: string; params: unknown }) {
      invoked.push({ channel, envelope });
      return envelope.method === 'app.info'
        ? { id: envelope.id, ok: true, result: { mode: 'electron' } }
        : { id: envelope.id, ok: false, error: { code: 'EMETHOD', message: 'unknown method' } };
    },
  };
  const bridge = buildBridge(ipc as never, ['electron', channelSwitch()]);
  assert.deepEqual(Object.keys(bridge).sort(), ['on', 'request'], 'only the contract is exposed');
  assert.ok(Object.isFrozen(bridge));
  assert.deepEqual(await bridge.request('app.info', {}), { mode: 'electron' });
  assert.equal(invoked[0]!.channel, ipcChannels.request);
  assert.deepEqual(invoked[0]!.envelope, { id: 1, method: 'app.info', params: {} });
  await assert.rejects(bridge.request('nope'), /^Error: \[EMETHOD\] unknown method$/);
  const got: unknown[] = [];
  const off = bridge.on('frame', (p) => got.push(p));
  const deliver = handlers.get(ipcChannels.event)!;
  deliver({}, { event: 'frame', payload: { seq: 1 } });
  deliver({}, { event: 'notice', payload: {} });
  deliver({}, 'garbage');
  off();
  deliver({}, { event: 'frame', payload: { seq: 2 } });
  assert.deepEqual(got, [{ seq: 1 }]);
});

test('app:// serves dist/renderer with the CSP; no traversal, no other host', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-app-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><p>hi</p>');
  writeFileSync(path.join(dir, 'assets', 'a.js'), 'console.log(1)');
  const ok = await appProtocolResponse(dir, 'app://iommuscope/');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-security-policy'), ELECTRON_CSP);
  assert.match(await ok.text(), /hi/);
  const js = await appProtocolResponse(dir, 'app://iommuscope/assets/a.js');
  assert.match(js.headers.get('content-type')!, /javascript/);
  for (const bad of [
    'app://iommuscope/..%2f..%2fetc%2fpasswd',
    'app://iommuscope/assets/%2e%2e/%2e%2e/x',
    'app://other/index.html',
    'app://iommuscope/assets/',
  ]) {
    assert.ok([400, 403, 404].includes((await appProtocolResponse(dir, bad)).status), bad);
  }
});

test('quit prompt: Drain as Invalid / Success / Cancel, default from the drain code', () => {
  assert.deepEqual(QUIT_BUTTONS, ['Drain as Invalid', 'Drain as Success', 'Cancel']);
  assert.equal(quitPrompt(3, 1).defaultId, 0);
  assert.equal(quitPrompt(3, 0).defaultId, 1);
  assert.equal(quitPrompt(3, 1).cancelId, 2);
  assert.match(quitPrompt(1, 1).message, /1 page request group is/);
  assert.equal(quitChoice(0), 1);
  assert.equal(quitChoice(1), 0);
  assert.equal(quitChoice(2), 'cancel');
});

test('app arguments: after the main script, without Chromium switches', () => {
  const main = '/a/dist/main/electron-main/main.js';
  assert.deepEqual(
    appArgs(
      ['/e/electron', '--inspect=0', '--remote-debugging-port=0', main, '--source', 'sim'],
      main,
      false,
    ),
    ['--source', 'sim'],
  );
  assert.deepEqual(
    appArgs(['/opt/iommuscope/iommuscope', '--no-sandbox', '--policy', 'hold'], main, true),
    ['--policy', 'hold'],
  );
});

test('electron-main modules other than main.js never load electron (testable in Node)', () => {
  for (const m of ['security', 'preload', 'app-protocol', 'quit', 'ipc', 'window', 'protocol']) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(path.join(distMain, `${m}.js`));
  }
  const loaded = Object.keys(require.cache).filter((f) =>
    /node_modules[/\\]electron[/\\]index\.js$/.test(f),
  );
  assert.deepEqual(loaded, []);
});

test('the app starts, exposes only the contract, and answers app.info', async (t) => {
  const electron = findElectronBinary();
  if (!electron.ok) {
    t.skip(`no Electron binary: ${electron.why}`);
    return;
  }
  const { _electron } = await import('playwright-core');
  const args = [path.join(distMain, 'main.js'), '--policy', 'success'];
  if (process.getuid?.() === 0) {
    args.unshift('--no-sandbox');
    args.push('--allow-root-for-testing');
  }
  const app = await _electron.launch({ executablePath: electron.path, args });
  try {
    const win = await app.firstWindow();
    assert.match(win.url(), /^app:\/\/iommuscope\//);
    const shape = await win.evaluate(() => {
      const w = globalThis as unknown as Record<string, unknown>;
      return {
        keys: Object.keys(w.iommuscope as object).sort(),
        require: typeof w.require,
        process: typeof w.process,
      };
    });
    assert.deepEqual(shape, {
      keys: ['on', 'request'],
      require: 'undefined',
      process: 'undefined',
    });
    const info = await win.evaluate(() =>
      (
        globalThis as unknown as {
          iommuscope: { request(m: string, p: object): Promise<{ mode: string }> };
        }
      ).iommuscope.request('app.info', {}),
    );
    assert.equal(info.mode, 'electron');
  } finally {
    await app.close();
  }
});
