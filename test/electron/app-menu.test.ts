// File > Open Recording… in plain Node (no Electron binary needed): the menu
// template, the dialog's options, and the open handler against a real core
// on a recording written in-test: picked → a replay session; cancelled →
// nothing; a damaged file → an error box naming the byte offset, no session.
// The real menu inside a running app is covered by the app launch test in
// electron-app.test.ts, which skips (saying why) without an Electron binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MenuItemConstructorOptions, OpenDialogOptions } from 'electron';
import {
  appMenuTemplate,
  OPEN_RECORDING_LABEL,
  openRecordingDialogOptions,
  openRecordingFromMenu,
  type OpenRecordingDeps,
} from '../../main/electron-main/app-menu';
import { CoreService } from '../../main/node/dashboard/core-service';
import { recordSession } from '../shared/recorded-session';
import { staticHost } from '../shared/core-client';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-menu-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('menu template: File > Open Recording… (Ctrl+O) calls the open action, Quit calls quit', () => {
  const calls: string[] = [];
  const template = appMenuTemplate({
    openRecording: () => calls.push('open'),
    quit: () => calls.push('quit'),
  });
  assert.deepEqual(
    template.map((m) => m.label),
    ['File', 'Edit', 'View', 'Window'],
  );
  const file = template[0]!.submenu as MenuItemConstructorOptions[];
  const open = file.find((i) => i.label === OPEN_RECORDING_LABEL);
  assert.ok(open, 'File has Open Recording…');
  assert.equal(open.accelerator, 'CmdOrCtrl+O');
  const click = open.click as unknown as () => void;
  click();
  (file.find((i) => i.label === 'Quit')!.click as unknown as () => void)();
  assert.deepEqual(calls, ['open', 'quit']);
});

test('dialog options: one file, recordings first, starting in the recordings folder', () => {
  const o = openRecordingDialogOptions('/home/u/.local/share/iommuscope/recordings');
  assert.deepEqual(o.properties, ['openFile']);
  assert.equal(o.defaultPath, '/home/u/.local/share/iommuscope/recordings');
  assert.deepEqual(o.filters![0]!.extensions, ['pcapng.gz', 'gz']);
});

test('open handler: picked file → replay session; cancel → nothing; damaged → error box with the offset', async () => {
  const rec = recordSession(path.join(dir, 'menu.pcapng.gz'), 4, 50);
  const core = new CoreService({
    version: 'test',
    mode: 'electron',
    recordingDir: dir,
    host: staticHost(),
  });
  const errors: string[] = [];
  const asked: OpenDialogOptions[] = [];
  const deps = (answer: { canceled: boolean; filePaths: string[] }): OpenRecordingDeps => ({
    showOpenDialog: async (_w, o) => {
      asked.push(o);
      return answer;
    },
    window: () => undefined,
    core,
    showError: (title, message) => errors.push(`${title}: ${message}`),
  });
  try {
    // Step: cancelled: no session.
    assert.equal(await openRecordingFromMenu(deps({ canceled: true, filePaths: [] })), null);
    assert.equal(core.sessionState().source, null);
    assert.equal(asked[0]!.defaultPath, dir);

    // Step: a recording anywhere on disk (the main process chose it) opens as the replay.
    const state = await openRecordingFromMenu(deps({ canceled: false, filePaths: [rec.file] }));
    assert.equal(state?.source, 'replay');
    assert.equal(state?.file, 'menu.pcapng.gz');
    assert.deepEqual(errors, []);

    // Negative: a file damaged in its first block: an error box naming the offset, no session.
    const bad = path.join(dir, 'bad.pcapng.gz');
    const bytes = readFileSync(rec.file);
    bytes[30]! ^= 0xff;
    writeFileSync(bad, bytes);
    assert.equal(await openRecordingFromMenu(deps({ canceled: false, filePaths: [bad] })), null);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^The recording did not open: bad\.pcapng\.gz: .*byte \d+/);
    assert.equal(core.sessionState().source, null, 'the open replay was replaced, then nothing');
  } finally {
    await core.close();
  }
});
