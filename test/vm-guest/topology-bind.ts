// Guest side of test/vm/topology-vtd.test.ts (runs as root in the -i vtd VM,
// cwd = repo): watch the live topology, run `iommuscope groups` before and
// after binding the edu device (1234:11e8) to vfio-pci, and print one
// TOPOLOGY-RESULT line with what was seen for the host test to check.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { HostTopology, TopologyChange } from '../../main/common/host-topology';
import { TopologyWatcher } from '../../main/node/topology/watcher';

const EDU = '0000:00:05.0';

function groupsJson(
  args: string[],
  asUser?: number,
): { status: number; doc?: HostTopology; stderr: string } {
  const cmd = asUser === undefined ? process.execPath : 'setpriv';
  const pre =
    asUser === undefined
      ? []
      : [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath];
  const r = spawnSync(cmd, [...pre, 'bin/iommuscope.js', 'groups', '--json', ...args], {
    encoding: 'utf8',
  });
  let doc: HostTopology | undefined;
  try {
    doc = JSON.parse(r.stdout) as HostTopology;
  } catch {
    doc = undefined;
  }
  return { status: r.status ?? -1, doc, stderr: r.stderr };
}

function human(args: string[]): string {
  return spawnSync(process.execPath, ['bin/iommuscope.js', 'groups', ...args], { encoding: 'utf8' })
    .stdout;
}

async function main(): Promise<void> {
  const watcher = new TopologyWatcher({ intervalMs: 100 });
  await watcher.start();
  const events: TopologyChange[] = [];
  let resolveBind: (() => void) | undefined;
  const bound = new Promise<void>((resolve) => (resolveBind = resolve));
  watcher.onUpdate((u) => {
    events.push(...u.changes);
    if (
      u.changes.some((c) => c.entity === 'device' && c.id === EDU && c.fields?.includes('driver'))
    )
      resolveBind?.();
  });

  const before = groupsJson(['--device', EDU]);
  const unprivileged = groupsJson(['--device', EDU], 65534);
  const t0 = Date.now();
  fs.writeFileSync('/sys/bus/pci/drivers/vfio-pci/new_id', '1234 11e8');
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
  await Promise.race([bound, timeout]);
  const eventMs = Date.now() - t0;
  watcher.stop();
  const after = groupsJson(['--device', EDU]);
  const vfioOnly = groupsJson(['--vfio']);
  const all = groupsJson([]);
  const missing = groupsJson(['--device', '0000:00:09.0']);
  const text = human(['--device', EDU, '--by-group']);
  const line = human(['--device', EDU]);
  const cdevExists = fs.existsSync('/dev/vfio/devices/vfio0');

  console.log(
    `TOPOLOGY-RESULT ${JSON.stringify({ before, unprivileged, after, vfioOnly, all, missing: { status: missing.status, stderr: missing.stderr }, events, eventMs, text, line, cdevExists })}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
