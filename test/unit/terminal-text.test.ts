// Terminal escaping of text from sysfs and the kernel, and `groups` on a tree
// whose files carry escape sequences.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { escapeForTerminal, escapeLineForTerminal } from '../../main/common/terminal-text';
import { buildTree, capsTreeSpec } from './topology-tree';

const TITLE_AND_CLEAR = '\x1b]0;pwned\x07\x1b[2J';
// eslint-disable-next-line no-control-regex -- looking for exactly these
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

test('escapeForTerminal: C0, DEL, C1 and bidi controls become visible escapes', () => {
  assert.equal(escapeForTerminal(TITLE_AND_CLEAR), '\\x1b]0;pwned\\x07\\x1b[2J');
  assert.equal(escapeForTerminal('a\x7fb\x9bc'), 'a\\x7fb\\x9bc');
  assert.equal(escapeForTerminal('x\u202ey'), 'x\\u202ey');
  assert.equal(escapeForTerminal('\x00'), '\\x00');
});

test('escapeForTerminal: ordinary text, newlines, tabs and non-ASCII letters are untouched', () => {
  const plain = 'IOMMU group 12  [DMA]\n\t0000:02:00.0 Ünïcödé µ 6.0';
  assert.equal(escapeForTerminal(plain), plain);
  assert.equal(escapeLineForTerminal('a\nb\tc'), 'a\\nb\\tc');
});

test('groups: escape sequences in sysfs cap, version and type files reach the terminal escaped', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-esc-'));
  buildTree(root, capsTreeSpec());
  fs.writeFileSync(
    path.join(root, 'devices/virtual/iommu/dmar1/intel-iommu/version'),
    `${TITLE_AND_CLEAR}\n`,
  );
  fs.writeFileSync(
    path.join(root, 'devices/virtual/iommu/dmar1/intel-iommu/cap'),
    `${TITLE_AND_CLEAR}\n`,
  );
  fs.writeFileSync(path.join(root, 'kernel/iommu_groups/10/type'), `${TITLE_AND_CLEAR}\n`);
  const r = spawnSync(
    process.execPath,
    [
      path.resolve(__dirname, '..', '..', '..', 'bin', 'iommuscope.js'),
      'groups',
      '--sysfs-root',
      root,
      '--no-names',
      '--by-group',
    ],
    { encoding: 'utf8' },
  );
  assert.ok(!CONTROL.test(r.stdout), 'no control character on stdout');
  assert.ok(!CONTROL.test(r.stderr), 'no control character on stderr');
  assert.match(r.stdout, /\\x1b\]0;pwned\\x07/, 'shown, escaped');
});
