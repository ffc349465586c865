// `iommuscope groups` on the fixtures: JSON shape, filters, human output, errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import type { HostTopology } from '../../main/common/host-topology';

const repo = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.join(repo, 'test', 'fixtures');

function groups(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(repo, 'bin', 'iommuscope.js'), 'groups', ...args],
    { encoding: 'utf8' },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--json: units, groups (numeric id) and devices (address, group, unit, ats/pri/pasid)', () => {
  const r = groups('--json', '--sysfs-root', path.join(fixtures, 'sysfs-vtd-vfio'));
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(r.stdout) as HostTopology;
  assert.ok(Array.isArray(t.units) && Array.isArray(t.groups) && Array.isArray(t.devices));
  assert.ok(t.groups.every((g) => typeof g.id === 'number'));
  const edu = t.devices.find((d) => d.address === '0000:00:05.0');
  assert.deepEqual([edu?.group, edu?.unit, edu?.vfioCdev], [5, 'dmar0', 'vfio0']);
  for (const cap of [edu?.ats, edu?.pri, edu?.pasid])
    assert.deepEqual([cap?.supported, cap?.enabled], [false, false]);
});

test('--device (short form) and --vfio narrow to the device and its group', () => {
  const root = path.join(fixtures, 'sysfs-caps');
  const d = JSON.parse(
    groups('--json', '--sysfs-root', root, '--device', '02:00.0').stdout,
  ) as HostTopology;
  assert.deepEqual(
    d.devices.map((x) => x.address),
    ['0000:02:00.0'],
  );
  assert.deepEqual(
    d.groups.map((g) => g.id),
    [12],
  );
  const v = JSON.parse(groups('--json', '--sysfs-root', root, '--vfio').stdout) as HostTopology;
  assert.deepEqual(
    v.groups.map((g) => g.id),
    [12, 14],
  );
  const g = JSON.parse(
    groups('--json', '--sysfs-root', root, '--group', '10').stdout,
  ) as HostTopology;
  assert.deepEqual(
    g.devices.map((x) => x.address),
    ['0000:01:00.0', '0000:01:00.1'],
  );
});

test('--by-group: one block per group with the verdict and capability columns', () => {
  const r = groups('--sysfs-root', path.join(fixtures, 'sysfs-caps'), '--no-names', '--by-group');
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /dmar1 {2}Intel VT-d {2}version 6\.0 .*\n.*has: scalable-mode PASID\(20 bits\) PRS nested/,
  );
  assert.match(
    r.stdout,
    /IOMMU group 10 {2}\[DMA-FQ\] {2}dmar1 {2}NOT viable for VFIO\n {4}- 0000:01:00\.0 is bound to idxd/,
  );
  assert.match(r.stdout, /0000:01:00\.0 .* on +on +on\/20/);
  assert.match(r.stdout, /0000:02:00\.0 .*vfio3 +on +on!RF,UPRGI,S,PRPR +on\/8/);
  assert.match(r.stdout, /0000:03:00\.0 .* \? +\? +\?/);
  assert.match(r.stdout, /needs CAP_SYS_ADMIN/);
});

test('errors: unknown device is 1, bad flags are 2, missing root is 1 with the cause', () => {
  const root = path.join(fixtures, 'sysfs-vtd');
  const miss = groups('--sysfs-root', root, '--device', '0000:00:09.0');
  assert.equal(miss.status, 1);
  assert.match(miss.stderr, /no device 0000:00:09\.0/);
  assert.equal(groups('--bogus').status, 2);
  assert.equal(groups('--group', 'x', '--sysfs-root', root).status, 2);
  assert.equal(groups('--interval', '100').status, 2);
  const none = groups('--sysfs-root', '/nonexistent-sysfs');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /cannot read sysfs at \/nonexistent-sysfs \(ENOENT\)/);
});

test('default: one grep-able line per device with group, ids, revision, driver, caps, verdict', () => {
  const r = groups('--sysfs-root', path.join(fixtures, 'sysfs-caps'), '--no-names');
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes('0000:02:00.0'));
  assert.match(
    line ?? '',
    /^IOMMU group 12 +0000:02:00\.0 +\[0880\] +\[8086:1234\] +rev 00 +driver vfio-pci +ATS on +PRI on!RF,UPRGI,S,PRPR +PASID on\/8 +viable/,
  );
  assert.match(r.stdout, /^IOMMU group 10 +0000:01:00\.0 .*NOT-viable/m);
  assert.doesNotMatch(r.stdout, /outstanding capacity/, 'details only with -v');
});

test('-v: capability decode under each line and the units; -vv: ACS and the upstream bridge', () => {
  const root = path.join(fixtures, 'sysfs-caps');
  const v = groups('--sysfs-root', root, '--no-names', '-v', '--device', '02:00.0');
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /IOMMU unit dmar1 +Intel VT-d +version 6\.0/);
  assert.match(
    v.stdout,
    /\n {4}ATS: supported, enabled, STU 0 \(4 KiB\), invalidate queue depth 32/,
  );
  assert.match(
    v.stdout,
    /\n {4}PRI: supported, enabled, outstanding capacity \d+, allocation \d+, status RF,UPRGI,S,PRPR/,
  );
  assert.match(v.stdout, /\n {4}PASID: supported, enabled, 8 bits, exec/);
  assert.doesNotMatch(v.stdout, /ACS:/);
  const vv = groups('--sysfs-root', root, '--no-names', '-vv', '--device', '02:00.0');
  assert.match(vv.stdout, /\n {4}ACS: not supported/);
  assert.match(vv.stdout, /\n {4}upstream bridge: /);
});

test('exit codes: missing --group and missing --device are 1 with a message; nothing readable is 1', () => {
  const root = path.join(fixtures, 'sysfs-caps');
  const g = groups('--sysfs-root', root, '--group', '99');
  assert.equal(g.status, 1);
  assert.match(g.stderr, /no IOMMU group 99 .*known: 10, 11, 12, 13, 14/);
  const d = groups('--sysfs-root', root, '--device', '0000:09:00.0');
  assert.equal(d.status, 1);
  assert.match(d.stderr, /no device 0000:09:00\.0/);
  const empty = groups('--sysfs-root', path.join(fixtures, 'sysfs-caps', 'class'));
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /nothing readable under/);
});

test('did you mean: subcommands, options and policy words', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(repo, 'bin', 'iommuscope.js'), ...args], {
      encoding: 'utf8',
    });
  assert.match(cli('wach').stderr, /unknown command 'wach' \(did you mean 'watch'\?\)/);
  assert.match(
    cli('watch', '--polcy', 'x').stderr,
    /unknown option '--polcy' \(did you mean '--policy'\?\)/,
  );
  assert.match(
    cli('watch', '--policy', 'sucess').stderr,
    /unknown action 'sucess' \(did you mean 'success'\?\)/,
  );
  assert.doesNotMatch(cli('frobnicate').stderr, /did you mean/, 'no wild guesses');
});
