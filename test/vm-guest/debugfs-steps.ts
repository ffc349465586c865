// Guest side of test/vm/debugfs.test.ts (-i vtd): the capture helper's Intel
// debugfs source on the real kernel, run as an ordinary user (nobody) with
// only cap_dac_read_search, while attach_hold keeps edu attached to an
// iommufd IOAS with pages at 0x100000, 0x200000 and 0x40000000: the
// activity core must decode dmar0's registers and edu's live PASID with
// those three pages, after the helper dropped every capability. Without the
// capability the debugfs source must say what is missing and how to grant it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { ActivityEvent } from '../../main/common/activity/stream';
import type { DebugfsUnit, DevicePasids } from '../../main/common/debugfs/events';
import { ActivityCore } from '../../main/node/activity/activity-core';
import type { RatesEvent } from '../../main/node/activity/rates';
import { facts, finish, step, waitFor } from './guest-steps';

const repo = path.resolve(__dirname, '..', '..', '..');
const tools = process.env.TOOLS!;
const built = path.join(repo, 'native', 'build', 'capture', 'iommuscope-capture');
const helper = '/tmp/iommuscope-capture';
const IOVAS = ['0x100000', '0x200000', '0x40000000'];

function eduAddress(): string {
  for (const d of readdirSync('/sys/bus/pci/devices')) {
    const base = `/sys/bus/pci/devices/${d}`;
    if (
      readFileSync(`${base}/vendor`, 'utf8').trim() === '0x1234' &&
      readFileSync(`${base}/device`, 'utf8').trim() === '0x11e8'
    )
      return d;
  }
  throw new Error('no edu device (1234:11e8)');
}

/** A wrapper that runs the helper as nobody with `caps` ('+dac_read_search', ...) or none. */
function asNobody(name: string, caps: string | null): string {
  const capArgs = caps ? `--inh-caps=${caps} --ambient-caps=${caps} ` : '';
  const file = `/tmp/${name}.sh`;
  writeFileSync(
    file,
    `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups ${capArgs}${helper} "$@"\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

function startCore(wrapper: string, watch: string[]) {
  const core = new ActivityCore({
    helper: wrapper,
    helperArgs: ['--no-kmsg', '--no-trace', '--no-interrupts', '--debugfs-interval-ms', '1000'],
    watchDevices: watch,
    watchFaultingDevices: false,
  });
  const events: ActivityEvent[] = [];
  core.on((e: ActivityEvent | RatesEvent) => {
    if (e.type !== 'rates') events.push(e);
  });
  return { core, events };
}

const eduEvent = (events: ActivityEvent[], edu: string, pred: (d: DevicePasids) => boolean) =>
  events.find((e): e is DevicePasids => e.type === 'device-pasids' && e.device === edu && pred(e));

async function main() {
  const edu = eduAddress();
  facts.edu = edu;
  facts.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  copyFileSync(built, helper);
  chmodSync(helper, 0o755);
  let hold: ChildProcess | null = null;

  await step(
    'edu is bound to vfio-pci and attached to an IOAS with three pages mapped',
    async () => {
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/new_id', '1234 11e8');
      await waitFor('/dev/vfio/devices/vfio0', () => existsSync('/dev/vfio/devices/vfio0'));
      hold = spawn(
        path.join(tools, 'attach_hold'),
        ['/dev/vfio/devices/vfio0', IOVAS.join(','), '--', 'sleep', '600'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      hold.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      hold.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      await waitFor(
        `attach_hold attached (${out})`,
        () => /attached to IOAS/.test(out) || hold!.exitCode !== null,
      );
      if (!/attached to IOAS/.test(out)) throw new Error(`attach_hold: ${out}`);
    },
  );

  await step(
    'as nobody with cap_dac_read_search: dmar0 and edu live PASID 0 with its three pages',
    async () => {
      const { core, events } = startCore(asNobody('capture-dac', '+dac_read_search'), [edu]);
      await core.start();
      try {
        facts.hello = core.hello;
        facts.sources = [...core.sources.values()];
        const e = await (async () => {
          await waitFor(
            'edu with its page table',
            () => !!eduEvent(events, edu, (x) => x.pasids[0]?.translation != null),
            120_000,
          );
          return eduEvent(events, edu, (x) => x.pasids[0]?.translation != null)!;
        })();
        facts.eduPasids = e;
        const unit = events.find(
          (x): x is DebugfsUnit => x.type === 'debugfs-unit' && x.unit === 'dmar0',
        );
        facts.unit = unit ? { ...unit, registers: Object.keys(unit.registers) } : null;
        facts.fileEvents = events.filter((x) => x.type === 'debugfs-file');
        // The helper (setpriv exec'd into it: same pid) runs with no capability left.
        const pid = (core as unknown as { child: ChildProcess | null }).child?.pid;
        const status = pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
        facts.helperCaps = /^CapEff:\s*(\S+)/m.exec(status)?.[1] ?? null;
        facts.helperUid = /^Uid:\s*(\d+)/m.exec(status)?.[1] ?? null;
        // step: the attach ends: the next rounds show edu without those pages
        hold?.kill('SIGTERM');
        await new Promise((r) => hold!.once('exit', r));
        hold = null;
        await waitFor(
          'edu changed after the detach',
          () =>
            !!eduEvent(
              events,
              edu,
              (x) => x.time > e.time && x.pasids[0]?.translation?.mappings !== 3,
            ),
          60_000,
        );
        facts.afterDetach = eduEvent(
          events,
          edu,
          (x) => x.time > e.time && x.pasids[0]?.translation?.mappings !== 3,
        );
      } finally {
        await core.stop();
      }
    },
  );

  await step(
    'as nobody without capabilities (and with cap_sys_admin only): the debugfs source says what is missing',
    async () => {
      for (const [name, caps] of [
        ['none', null],
        ['sysAdminOnly', '+sys_admin'],
      ] as const) {
        const { core } = startCore(asNobody(`capture-${name}`, caps), []);
        await core.start();
        await core.stop();
        facts[`${name}Source`] = core.sources.get('debugfs') ?? null;
      }
      const check = spawnSync(
        asNobody('capture-check', null),
        ['--check', '--no-kmsg', '--no-trace', '--no-interrupts'],
        {
          encoding: 'utf8',
        },
      );
      facts.check = { status: check.status, stderr: check.stderr };
    },
  );
  if (hold) (hold as ChildProcess).kill('SIGTERM');
  finish();
}

void main();
