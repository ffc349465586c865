// The native core (NATIVE_CORE_SOURCES: engine, fault format, channels,
// injector, policy) builds into a plain program with no N-API headers on the
// include path: core_mock_loop links all of it, as bench:faults runs it in the
// VM beside the C loop. Here: it builds, and it and the C loop refuse bad
// arguments or a machine without /dev/iommu with a message instead of a crash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildNativeProgram, NATIVE_CORE_SOURCES, NATIVE_SRC_DIR } from '../shared/native-programs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-core-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('no native core file includes an N-API header, directly or through a core header', () => {
  const seen = new Set<string>();
  const visit = (file: string, from: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(NATIVE_SRC_DIR, file), 'utf8');
    assert.doesNotMatch(text, /#include\s*<(napi|node_api)\.h>/, `${file} (from ${from})`);
    for (const m of text.matchAll(/#include\s*"([^"]+)"/g))
      if (existsSync(path.join(NATIVE_SRC_DIR, m[1]!))) visit(m[1]!, file);
  };
  for (const f of NATIVE_CORE_SOURCES) visit(f, f);
  assert.ok(seen.has('fault_core.h') && seen.has('event_engine.h'), [...seen].join(' '));
});

test("native threads get their name and the kernel's default PKRU (here: what this CPU allows)", () => {
  const r = spawnSync(buildNativeProgram('native_thread_test', dir), [], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS: 0 failed$/m);
  assert.match(r.stdout, /^ok - (EnterNativeThread gives|without protection keys)/m);
});

for (const name of ['core_mock_loop', 'c_fault_loop'] as const) {
  test(`${name} builds, and refuses bad arguments with its usage (exit 2)`, () => {
    const bin = buildNativeProgram(name, dir);
    for (const args of [['0'], ['x'], ['10', '-1']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^usage: ${name} \\[N \\[RATE\\]\\]`));
    }
  });

  test(`${name} without /dev/iommu says which step failed and why (exit 1)`, (t) => {
    if (existsSync('/dev/iommu'))
      return t.skip('this machine has /dev/iommu: the VM bench runs it');
    const r = spawnSync(buildNativeProgram(name, dir), ['10'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^${name}: open /dev/iommu: No such file or directory`));
  });
}
