// Intel IOMMU debugfs through the capture helper on the real kernels (-i vtd,
// 6.12 and 7.3): as nobody with only cap_dac_read_search the helper reads
// iommu_regset and, after edu is attached to an iommufd IOAS, edu's PASID
// table entry and page table, and the activity core decodes them (three
// pages at the IOVAs attach_hold mapped) with no capability left in the
// helper; without the capability (and with cap_sys_admin alone) the debugfs
// source names what is missing and the setcap command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { kernelMatrix } from './kernel-matrix';
import { repoRoot } from './vm';

const tools = path.join(repoRoot, 'dist', 'test', 'vm-guest', 'tools');
const helper = path.join(repoRoot, 'native', 'build', 'capture', 'iommuscope-capture');
const guest = path.join(repoRoot, 'dist', 'test', 'vm-guest', 'debugfs-steps.js');

function buildAttachHold(): void {
  mkdirSync(tools, { recursive: true });
  const uapi = path.join(repoRoot, '..', 'shared', 'vm', 'uapi-7.3');
  const r = spawnSync(
    'gcc',
    [
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      `-I${uapi}`,
      '-o',
      path.join(tools, 'attach_hold'),
      path.join(repoRoot, 'test', 'vm-guest', 'attach_hold.c'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `gcc attach_hold: ${r.stderr}`);
}

type Facts = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

kernelMatrix(
  'debugfs: nobody + cap_dac_read_search decodes dmar0 and edu live PASID/page table; without it a clear error (-i vtd)',
  (k) => {
    assert.ok(existsSync(helper), `${helper} missing: run node scripts/build-native.mjs`);
    assert.ok(existsSync(guest), `${guest} missing: run npx tsc -p tsconfig.json`);
    buildAttachHold();
    const r = k.run('vtd', ['env', `TOOLS=${tools}`, 'node', path.relative(repoRoot, guest)]);
    const line = r.output.split('\n').find((l) => l.startsWith('FACTS '));
    assert.ok(line, `no FACTS line (exit ${r.status}):\n${r.output.slice(-4000)}`);
    const f = JSON.parse(line.slice('FACTS '.length)) as Facts;
    const failed = r.output.split('\n').filter((l) => l.startsWith('not ok'));
    assert.deepEqual(failed, [], r.output.slice(-4000));
    assert.equal(r.status, 0);

    // step: the helper kept only cap_dac_read_search, and had none left while reading
    assert.equal(f.hello.caps, 'cap_dac_read_search');
    assert.equal(f.hello.uid, 65534);
    assert.equal(f.helperUid, '65534');
    assert.equal(f.helperCaps, '0000000000000000', 'every capability dropped');
    assert.deepEqual(
      f.sources.map((s: Facts) => [s.source, s.ok]),
      [['debugfs', true]],
    );
    // step: dmar0 decoded from iommu_regset and invalidation_queue
    const u = f.unit;
    assert.equal(u.unit, 'dmar0');
    assert.deepEqual(u.status, {
      translation: true,
      queuedInvalidation: true,
      interruptRemapping: true,
    });
    assert.deepEqual(u.fault.set, []);
    assert.equal(u.invalidationQueue.size, 256);
    assert.equal(u.invalidationQueue.descriptorBits, 256);
    assert.ok(u.registers.includes('PQH') && u.registers.includes('PQT'));
    assert.equal(u.registers.includes('CCMD'), k.kernel === '6.12', '6.12 lists CCMD, 7.3 not');
    assert.deepEqual(u.latency, [], 'no latency type enabled by default');
    // step: edu's live PASID 0, second stage, with exactly the three pages attach_hold mapped
    const e = f.eduPasids;
    assert.equal(e.watched, true);
    assert.deepEqual(
      e.pasids.map((p: Facts) => [p.pasid, p.present, p.pgttName]),
      [[0, true, 'second-stage']],
    );
    const t = e.pasids[0].translation;
    assert.equal(t.root, e.pasids[0].pageTable, 'the page table walked is the PASID entry’s');
    assert.deepEqual(
      t.first.map((m: Facts) => [m.iova, m.leafLevel, m.read, m.write]),
      [
        ['0x100000', 'PTE', true, true],
        ['0x200000', 'PTE', true, true],
        ['0x40000000', 'PTE', true, true],
      ],
    );
    assert.deepEqual(
      f.fileEvents.filter((x: Facts) => !x.ok || x.problemCount),
      [],
      'every file read and decoded cleanly',
    );
    // step: after the detach the next round shows edu's domain change
    assert.ok(f.afterDetach, 'edu changed after attach_hold exited');
    console.log(
      `# [${k.kernel}] edu after detach: ${JSON.stringify(f.afterDetach.pasids.map((p: Facts) => [p.pasid, p.pgttName, p.did, p.translation?.mappings]))}`,
    );
    // step: without the capability, and with cap_sys_admin alone: EACCES, needs cap_dac_read_search
    for (const key of ['noneSource', 'sysAdminOnlySource']) {
      const s = f[key];
      assert.equal(s.ok, false, key);
      assert.match(s.detail, /^\/sys\/kernel\/debug\/iommu\/intel: EACCES$/, key);
      assert.equal(s.needCap, 'cap_dac_read_search', key);
      assert.match(
        s.fix,
        /^sudo setcap cap_syslog,cap_perfmon,cap_dac_read_search\+ep \/tmp\/iommuscope-capture$/,
      );
    }
    assert.equal(f.check.status, 3);
    assert.match(
      f.check.stderr,
      /debugfs: unavailable: \/sys\/kernel\/debug\/iommu\/intel: EACCES; needs cap_dac_read_search; grant it with: sudo setcap/,
    );
  },
);
