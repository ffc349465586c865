// Guest side of test/vm/activity.test.ts (-i vtd): `iommuscope activity
// --json` against real DMA faults from the edu device, map/unmap bursts
// through iommufd, bind/unbind events, the capture helper's privilege split
// as an ordinary user, and the cost of capturing a 100k-event burst.
// Tools (edu_dma, map_burst) are compiled by the host test into TOOLS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_START_MS, facts, finish, step, waitFor } from './guest-steps';

const repo = path.resolve(__dirname, '..', '..', '..');
const tools = process.env.TOOLS!;
const helper = path.join(repo, 'native', 'build', 'capture', 'iommuscope-capture');
const cli = path.join(repo, 'bin', 'iommuscope.js');
type Line = Record<string, unknown> & { type: string };

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

/** The CLI as a child with its NDJSON lines collected (and their arrival times). */
class ActivityCli {
  readonly lines: { at: number; line: Line }[] = [];
  readonly child: ChildProcess;
  stderr = '';
  constructor(args: string[], opts: { uid?: number; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [cli, 'activity', '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.uid,
      env: { ...process.env, ...opts.env },
    });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push({ at: Date.now(), line: JSON.parse(l) as Line });
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }
  find(pred: (l: Line) => boolean, since = 0): { at: number; line: Line } | undefined {
    return this.lines.find((x) => x.at >= since && pred(x.line));
  }
  async waitFor(what: string, pred: (l: Line) => boolean, since = 0, ms = 20_000) {
    await waitFor(
      `${what} (stderr: ${this.stderr.slice(-500)})`,
      () => !!this.find(pred, since),
      ms,
    );
    return this.find(pred, since)!;
  }
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const done = new Promise<number | null>((r) => this.child.once('exit', (c) => r(c)));
    this.child.kill('SIGTERM');
    return done;
  }
}

// The sources report after the CLI has started: see CLI_START_MS.
const sourcesReady = (cli: ActivityCli, ms = CLI_START_MS) =>
  cli.waitFor(
    'all four sources reported',
    () => cli.lines.filter((x) => x.line.type === 'source').length >= 4,
    0,
    ms,
  );

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function dma(edu: string, iova: string, dir: 'read' | 'write', repeat = 1): number {
  const r = run(path.join(tools, 'edu_dma'), [edu, iova, '16', dir, String(repeat)]);
  if (r.status !== 0) throw new Error(`edu_dma failed: ${r.out}`);
  return Date.now();
}

const setDmesgRestrict = (v: 0 | 1) => writeFileSync('/proc/sys/kernel/dmesg_restrict', String(v));

function asNobody(caps: string | null, argv: string[]) {
  const capArgs = caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : [];
  return run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...capArgs, ...argv]);
}

async function main() {
  const edu = eduAddress();
  facts.edu = edu;
  facts.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  let cli!: ActivityCli;

  await step('the CLI starts the helper and every source opens as root', async () => {
    cli = new ActivityCli(['--interval', '500']);
    await sourcesReady(cli);
    facts.sources = cli.lines.filter((x) => x.line.type === 'source').map((x) => x.line);
  });

  await step(
    'an edu DMA read from an unmapped IOVA arrives as a decoded dma-fault within a second',
    async () => {
      const done = dma(edu, '0x5550000', 'read');
      const f = await cli.waitFor(
        'dma-fault at 0x5550000',
        (l) => l.type === 'dma-fault' && l.addr === '0x5550000',
      );
      facts.readFault = f.line;
      facts.readFaultLatencyMs = f.at - done;
    },
  );

  await step('a DMA write faults with access write and reason 5', async () => {
    const done = dma(edu, '0x6660000', 'write');
    const f = await cli.waitFor(
      'dma-fault at 0x6660000',
      (l) => l.type === 'dma-fault' && l.addr === '0x6660000',
    );
    facts.writeFault = { ...f.line, walk: undefined, raw: undefined };
    facts.writeFaultLatencyMs = f.at - done;
  });

  await step(
    'binding edu to vfio-pci and attaching its cdev to an IOAS shows attach events for edu',
    async () => {
      const since = Date.now();
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/new_id', '1234 11e8');
      await waitFor('/dev/vfio/devices/vfio0', () => existsSync('/dev/vfio/devices/vfio0'));
      const r = run(path.join(tools, 'map_burst'), ['/dev/vfio/devices/vfio0', '1', '1']);
      if (r.status !== 0) throw new Error(r.out);
      await cli.waitFor(
        'attach event for edu',
        (l) => l.type === 'topology' && l.change === 'attach' && l.device === edu,
        since,
      );
      facts.bindEvents = cli.lines
        .filter((x) => x.at >= since && x.line.type === 'topology')
        .map((x) => x.line);
    },
  );

  await step(
    'map/unmap through iommufd in a loop shows map/unmap and invalidation rates for dmar0',
    async () => {
      const since = Date.now();
      const r = run(path.join(tools, 'map_burst'), ['/dev/vfio/devices/vfio0', '2000', '2']);
      if (r.status !== 0) throw new Error(r.out);
      facts.burstOutput = r.out.trim();
      const rates = await cli.waitFor(
        'rates with map and dmar0 invalidations',
        (l) => {
          if (l.type !== 'rates') return false;
          const units = l.units as { unit: string; invalidations: number }[];
          return (
            (l.map as { perSecond: number }).perSecond > 0 &&
            units.some((u) => u.unit === 'dmar0' && u.invalidations > 0)
          );
        },
        since,
      );
      await new Promise((res) => setTimeout(res, 1500));
      // Peaks over every interval of the burst, taken once it is over (not at the first match).
      const all = cli.lines
        .filter((x) => x.at >= since && x.line.type === 'rates')
        .map((x) => x.line);
      const last = [...cli.lines].reverse().find((x) => x.line.type === 'rates')!.line;
      facts.mapTotal = (last.map as { total: number }).total;
      facts.unmapTotal = (last.unmap as { total: number }).total;
      facts.peakRates = rates.line;
      facts.peakMapPerSecond = Math.max(
        ...all.map((l) => (l.map as { perSecond: number }).perSecond),
      );
      facts.peakDmar0Invalidations = Math.max(
        ...all.map(
          (l) =>
            (l.units as { unit: string; invalidations: number }[]).find((u) => u.unit === 'dmar0')
              ?.invalidations ?? 0,
        ),
      );
      facts.lost = last.lost;
    },
  );

  await step(
    'unbinding edu, removing it and rescanning the bus shows group remove/add events',
    async () => {
      const since = Date.now();
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/remove_id', '1234 11e8');
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/unbind', edu);
      writeFileSync(`/sys/bus/pci/devices/${edu}/remove`, '1');
      await cli.waitFor(
        'group-remove for edu',
        (l) => l.type === 'topology' && l.change === 'group-remove' && l.device === edu,
        since,
      );
      writeFileSync('/sys/bus/pci/rescan', '1');
      await cli.waitFor(
        'group-add for edu',
        (l) => l.type === 'topology' && l.change === 'group-add' && l.device === edu,
        since,
      );
      facts.unbindEvents = cli.lines
        .filter((x) => x.at >= since && x.line.type === 'topology')
        .map((x) => x.line);
    },
  );

  await step('the CLI stops cleanly on SIGTERM', async () => {
    facts.cliExit = await cli.stop();
    facts.unparsedLines = cli.lines.filter((x) => x.line.type === 'unparsed').map((x) => x.line);
  });

  // --- privilege split -------------------------------------------------------
  const plain = '/tmp/iommuscope-capture';
  const withFileCaps = '/tmp/iommuscope-capture-setcap';
  await step('privileges: the helper as nobody, with and without each capability', () => {
    copyFileSync(helper, plain);
    copyFileSync(helper, withFileCaps);
    run('chmod', ['755', plain, withFileCaps]);
    const check = (caps: string | null) => {
      const r = asNobody(caps, [plain, '--check']);
      return { status: r.status, out: r.out };
    };
    const matrix: Record<string, unknown> = {};
    for (const dr of [0, 1] as const) {
      setDmesgRestrict(dr);
      matrix[`restrict${dr}`] = {
        all: check('+syslog,+perfmon,+dac_read_search'),
        none: check(null),
        noSyslog: check('+perfmon,+dac_read_search'),
        noPerfmon: check('+syslog,+dac_read_search'),
        noDacReadSearch: check('+syslog,+perfmon'),
        everything: check('+all'),
      };
    }
    facts.privilegeMatrix = matrix;
    setDmesgRestrict(0);
  });

  await step(
    'file capabilities: the CLI as nobody runs a setcap helper and sees the fault (dmesg_restrict=1)',
    async () => {
      const sc = run('setcap', ['cap_syslog,cap_perfmon,cap_dac_read_search+ep', withFileCaps]);
      facts.setcap = sc;
      if (sc.status !== 0) throw new Error(`setcap failed: ${sc.out}`);
      setDmesgRestrict(1);
      try {
        const user = new ActivityCli(['--interval', '500'], {
          uid: 65534,
          env: { IOMMUSCOPE_CAPTURE: withFileCaps, HOME: '/tmp' },
        });
        await sourcesReady(user);
        facts.nobodySources = user.lines.filter((x) => x.line.type === 'source').map((x) => x.line);
        const done = dma(edu, '0x7770000', 'read');
        const f = await user.waitFor(
          'dma-fault as nobody',
          (l) => l.type === 'dma-fault' && l.addr === '0x7770000',
        );
        facts.nobodyFaultLatencyMs = f.at - done;
        facts.nobodyFault = { ...f.line, walk: undefined, raw: undefined };
        await user.stop();
        // step: the same user with the plain helper is told exactly what is missing
        const denied = new ActivityCli(['--interval', '500'], {
          uid: 65534,
          env: { IOMMUSCOPE_CAPTURE: plain, HOME: '/tmp' },
        });
        await sourcesReady(denied);
        facts.nobodyDeniedSources = denied.lines
          .filter((x) => x.line.type === 'source')
          .map((x) => x.line);
        await denied.waitFor('rates without privileges', (l) => l.type === 'rates');
        await denied.stop();
        facts.nobodyDeniedStderr = denied.stderr;
      } finally {
        setDmesgRestrict(0);
      }
    },
  );

  // --- cost ------------------------------------------------------------------
  await step(
    'cost: 50k map/unmap pairs (100k map+unmap events) with capture off, on, off',
    async () => {
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/new_id', '1234 11e8');
      await waitFor('/dev/vfio/devices/vfio0 again', () => existsSync('/dev/vfio/devices/vfio0'));
      const pairs = Number(process.env.BURST_PAIRS ?? 50_000);
      const burst = () => {
        const r = run(path.join(tools, 'map_burst'), [
          '/dev/vfio/devices/vfio0',
          String(pairs),
          '1',
        ]);
        const m = /in (\d+) ns/.exec(r.out);
        if (!m) throw new Error(`map_burst: ${r.out}`);
        return Number(m[1]) / 1e6;
      };
      // Alternate off and on, same boot, and compare medians: the VM's speed drifts under TCG.
      const off: number[] = [burst()];
      const on: number[] = [];
      let capturedMaps = 0;
      let capturedUnmaps = 0;
      let lost = { trace: 0, kmsg: 0 };
      for (let round = 0; round < 2; round++) {
        const cap = new ActivityCli(['--interval', '1000']);
        await sourcesReady(cap);
        on.push(burst());
        const total = (l: Line) => (l.map as { total: number }).total;
        const lostOf = (l: Line) => (l.lost as { trace: number }).trace;
        // Wait until every map is counted or the kernel said it dropped some (counted, never silent).
        await cap
          .waitFor(
            'the burst counted',
            (l) => l.type === 'rates' && (total(l) >= pairs || lostOf(l) > 0),
            0,
            60_000,
          )
          .catch(() => undefined);
        await new Promise((res) => setTimeout(res, 1500));
        const last = [...cap.lines].reverse().find((x) => x.line.type === 'rates')!.line;
        capturedMaps += total(last);
        capturedUnmaps += (last.unmap as { total: number }).total;
        const l = last.lost as { trace: number; kmsg: number };
        lost = { trace: lost.trace + l.trace, kmsg: lost.kmsg + l.kmsg };
        await cap.stop();
        off.push(burst());
      }
      // The helper alone (frames to /dev/null): the kernel's perf sampling plus the helper, without the app.
      const helperOnly: number[] = [];
      for (let round = 0; round < 2; round++) {
        const h = spawn(helper, ['--no-kmsg', '--no-debugfs'], {
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        await new Promise((res) => setTimeout(res, 3000));
        helperOnly.push(burst());
        h.stdin!.end();
        await new Promise((res) => h.once('exit', res));
        off.push(burst());
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      facts.cost = {
        pairs,
        rounds: on.length,
        offMs: off,
        onMs: on,
        helperOnlyMs: helperOnly,
        ratio: median(on) / median(off),
        helperOnlyRatio: median(helperOnly) / median(off),
        capturedMaps,
        capturedUnmaps,
        lost,
      };
    },
  );
  finish();
}

void main();
