// resources/wireshark/iommuscope.lua decodes a recording in tshark: frame
// types, group numbers, the raw records' fields and the answerer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Recorder } from '../../main/node/recording/recorder';
import { ContractQueue } from '../shared/contract-batches';

const lua = path.resolve(__dirname, '..', '..', '..', 'resources', 'wireshark', 'iommuscope.lua');

test('wireshark: the Lua dissector decodes group reads, records and answers', (t) => {
  if (spawnSync('tshark', ['--version']).error)
    return t.skip('tshark is not installed (Debian: apt-get install tshark)');
  const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-ws-'));
  try {
    const file = path.join(dir, 'ws.pcapng.gz');
    const rec = Recorder.start({ path: file, toolVersion: 't' });
    const q = new ContractQueue(1, { firstGroup: 41 });
    const g = q.read({ pages: 2, devId: 3, pasid: 9, perm: 2 });
    q.answer({ group: g, code: 1, by: 0, latencyNs: 4200 });
    rec.batch(q.flush());
    rec.stop();
    const fields = [
      'iommuscope.type',
      'iommuscope.group',
      'iommuscope.fault.dev_id',
      'iommuscope.fault.pasid',
      'iommuscope.fault.perm',
      'iommuscope.code',
      'iommuscope.by',
    ];
    const r = spawnSync(
      'tshark',
      ['-X', `lua_script:${lua}`, '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      rows.map((row) => row[0]),
      ['0x0001', '0x0010', '0x0011', '0x0012', '0x0004'],
    );
    assert.deepEqual(rows[1], ['0x0010', '41', '3,3', '9,9', '0x00000002,0x00000002', '', '']);
    assert.deepEqual(rows[2], ['0x0011', '41', '', '', '', '1', '0']);
    const info = spawnSync('tshark', ['-X', `lua_script:${lua}`, '-r', file], {
      encoding: 'utf8',
    }).stdout;
    assert.match(info, /group 41 answered invalid by user after 4\.2 us/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
