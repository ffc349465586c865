// The Host view's capability badges from decoded config space: never
// healthier than the hardware. PRI status RF/UPRGI/Stopped → a warning
// naming them; an unknown enable → '?', not 'off'; a 64-byte (header-only)
// read → one "capabilities unreadable (needs CAP_SYS_ADMIN)".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostDevice } from '../../main/common/host-topology';
import { CAPS_UNREADABLE, capabilityBadges } from '../../main/common/capability-badges';
import { decodeConfig } from '../../main/node/topology/pci-config';
import { makeConfig, type ConfigSpec } from './topology-tree';

const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
const base = { vendor: 0x8086, device: 0x0b25, classCode: 0x088000 };

/** A Host view device row from a config space image, as the scan builds it. */
function device(spec: Partial<ConfigSpec>): HostDevice {
  const c = decodeConfig(ab(makeConfig({ ...base, ...spec })), 'c');
  return {
    address: '0000:00:05.0',
    bus: 'pci',
    sysfsPath: 'devices/pci0000:00/0000:00:05.0',
    driver: null,
    group: 3,
    unit: 'dmar0',
    vfioCdev: null,
    configAccess: c.access,
    ats: c.ats,
    pri: c.pri,
    pasid: c.pasid,
    problems: [],
  };
}

const texts = (d: HostDevice) => capabilityBadges(d).map((b) => `${b.tone}:${b.text}`);

test('a healthy PRI is green; Response Failure / UPRGI / Stopped turn it into a warning naming them', () => {
  assert.deepEqual(texts(device({ length: 4096, pri: { enabled: true, status: 0 } })), ['on:PRI']);
  const bad = device({ length: 4096, pri: { enabled: true, status: 0x0001 | 0x0002 | 0x0100 } });
  const pri = capabilityBadges(bad).find((b) => b.text.startsWith('PRI'))!;
  assert.equal(pri.tone, 'warn');
  assert.equal(pri.text, 'PRI ⚠ RF,UPRGI,S');
  assert.match(pri.title, /Response Failure, Unexpected Page Request Group Index, Stopped/);
  const stopped = device({ length: 4096, pri: { enabled: true, status: 0x0100 } });
  assert.deepEqual(texts(stopped), ['warn:PRI ⚠ S']);
  // PRG Response PASID Required is a property, not a failure: still green.
  const prpr = device({ length: 4096, pri: { enabled: true, status: 0x8000 } });
  assert.deepEqual(texts(prpr), ['on:PRI']);
});

test("PRI supported but its enable unknown reads 'PRI ?', never 'PRI off'", () => {
  const d = device({ length: 4096, pri: { enabled: false, status: 0 } });
  assert.deepEqual(texts(d), ['off:PRI off'], 'a known disabled PRI is off');
  d.pri = { ...d.pri, enabled: null, unknown: 'control register unreadable' };
  const b = capabilityBadges(d);
  assert.deepEqual(texts(d), ['unknown:PRI ?']);
  assert.match(b[0]!.title, /enable state unknown/);
});

test('a header-only device (64 bytes readable) shows one badge, not "ATS? PRI? PASID? none"', () => {
  const d = device({ length: 64, ats: { enabled: true } });
  assert.equal(d.configAccess, 'header-only');
  assert.deepEqual(texts(d), [`unknown:${CAPS_UNREADABLE}`]);
  assert.match(capabilityBadges(d)[0]!.title, /CAP_SYS_ADMIN/);
});

test("'none' only when every capability is known absent; ATS and PASID keep their states", () => {
  const conv = Buffer.from(makeConfig({ ...base, length: 256 }));
  conv.writeUInt16LE(0, 6); // no capability list: conventional PCI
  const c = decodeConfig(ab(conv), 'c');
  const plain = { ...device({ length: 4096 }), ats: c.ats, pri: c.pri, pasid: c.pasid };
  assert.deepEqual(texts(plain), ['none:none']);
  const full = device({
    length: 4096,
    ats: { enabled: true },
    pri: { enabled: true, status: 0 },
    pasid: { enabled: false, width: 20 },
  });
  assert.deepEqual(texts(full), ['on:ATS', 'on:PRI', 'off:PASID 20b off']);
});
