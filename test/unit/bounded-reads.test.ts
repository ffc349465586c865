// Files that are not what they claim: a FIFO, a link to /dev/zero and a huge
// file, as a rules file and inside a sysfs tree. Each read must fail fast with
// an error naming the file (or, in sysfs, be capped), never hang.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileReadError, MiB, readBoundedFile } from '../../main/node/bounded-read';
import { nativeReader, nodeReader, isSysfsError } from '../../main/node/topology/sysfs-reader';
import { buildTree, capsTreeSpec } from './topology-tree';
import { addonSkipReason, tryLoadAddon } from './addon-available';

const repo = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(repo, 'bin', 'iommuscope.js');

function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  assert.equal(r.status, 0, `mkfifo ${file}: ${r.stderr?.toString()}`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-bounded-'));
const fifo = path.join(dir, 'rules.fifo');
mkfifo(fifo);
const zeroLink = path.join(dir, 'zero.json');
fs.symlinkSync('/dev/zero', zeroLink);
const huge = path.join(dir, 'huge.json');
fs.writeFileSync(huge, '');
fs.truncateSync(huge, 3 * MiB); // sparse: costs no disk
const good = path.join(dir, 'good.json');
fs.writeFileSync(good, '{"rules":[],"default":"success"}');

// A sysfs tree with the same three traps in place of a config, a cap and a type file.
const tree = path.join(dir, 'sys');
buildTree(tree, capsTreeSpec());
const fifoConfig = 'devices/pci0000:00/0000:02:00.0/config';
const zeroCap = 'devices/virtual/iommu/dmar1/intel-iommu/cap';
const hugeType = 'kernel/iommu_groups/10/type';
fs.rmSync(path.join(tree, fifoConfig));
mkfifo(path.join(tree, fifoConfig));
fs.rmSync(path.join(tree, zeroCap));
fs.symlinkSync('/dev/zero', path.join(tree, zeroCap));
fs.truncateSync(path.join(tree, hugeType), 200 * MiB);

test('readBoundedFile: a regular file within the limit is read whole', () => {
  assert.equal(readBoundedFile(good, 1024).toString(), '{"rules":[],"default":"success"}');
});

for (const [name, file, kind] of [
  ['a FIFO', fifo, /is a FIFO \(named pipe\), not a regular file/],
  ['a link to /dev/zero', zeroLink, /is a character device, not a regular file/],
  ['a directory', dir, /is a directory, not a regular file/],
  ['a file over the limit', huge, /is 3 MiB, more than the 1 MiB limit/],
  [
    'a missing file',
    path.join(dir, 'nope.json'),
    /cannot open the rules file .*: it does not exist/,
  ],
] as const) {
  test(`readBoundedFile: ${name} is refused at once, naming the file`, () => {
    const t0 = performance.now();
    assert.throws(
      () => readBoundedFile(file, 1 * MiB, 'the rules file'),
      (err: unknown) =>
        err instanceof FileReadError && kind.test(err.message) && err.message.includes(file),
    );
    assert.ok(performance.now() - t0 < 1000, 'fails fast');
  });
}

for (const [name, file, why] of [
  ['@FIFO', fifo, /FIFO/],
  ['@/dev/zero', zeroLink, /character device/],
  ['@huge', huge, /more than the 1 MiB limit/],
] as const) {
  test(`watch --policy ${name}: usage error (exit 2) naming the file, no hang`, () => {
    const r = spawnSync(process.execPath, [bin, 'watch', '--policy', `@${file}`], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(r.signal, null, 'finished by itself');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.ok(r.stderr.includes(file), r.stderr);
  });
}

const request = { files: [zeroCap, hugeType, 'kernel/iommu_groups/11/type'], binary: [fifoConfig] };

function checkSysfsResult(kind: string, res: ReturnType<ReturnType<typeof nodeReader>['read']>) {
  const [cap, type, okType] = res.files;
  assert.ok(isSysfsError(cap), `${kind}: /dev/zero link refused`);
  assert.match(cap.message, /intel-iommu\/cap is a character device, not a regular file/);
  assert.equal(typeof type, 'string', `${kind}: the huge file is read, capped`);
  assert.equal((type as string).length, 65536, `${kind}: capped at maxBytes`);
  assert.equal(okType, 'identity\n');
  const config = res.binary[0];
  assert.ok(isSysfsError(config), `${kind}: FIFO refused`);
  assert.match(config.message, /0000:02:00\.0\/config is a FIFO[^,]*, not a regular file/);
}

test('node:fs sysfs reader: FIFO and device refused per entry, huge capped', () => {
  checkSysfsResult('node', nodeReader(tree).read(request));
});

test(
  'native sysfs reader: FIFO and device refused per entry, huge capped',
  { skip: addonSkipReason() },
  async () => {
    const r = nativeReader(tree, tryLoadAddon());
    checkSysfsResult('native sync', r.read(request));
    checkSysfsResult('native async', await r.readAsync(request));
  },
);

test('groups --json on the trapped tree finishes and reports the refused files', () => {
  const r = spawnSync(process.execPath, [bin, 'groups', '--json', '--sysfs-root', tree], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.signal, null, 'finished by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /0000:02:00\.0\/config is a FIFO, not a regular file/);
  assert.match(r.stdout, /intel-iommu\/cap is a character device/);
});

test(
  'serve on the trapped tree answers SIGTERM (the host scan cannot hang it)',
  { skip: addonSkipReason() },
  async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--sysfs-root', tree]);
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve();
      }),
    );
    // serve scans the host at start: give that scan time to reach the traps.
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const status = await new Promise<number | null>((resolve) =>
      child.on('exit', (c) => resolve(c)),
    );
    clearTimeout(killer);
    assert.equal(status, 0);
    assert.ok(performance.now() - t0 < 10_000, 'exited promptly');
  },
);
