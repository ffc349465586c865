// A test double of the kernel side of a selftest vEVENTQ for tests that run
// outside the VM: the iommufd ioctls of VeventSource.open return made-up ids,
// and the vEVENTQ fd is a FIFO read by the REAL native event queue; each
// TRIGGER_VEVENT writes one record in the kernel's layout (header { flags,
// sequence } + u32 virt_id) to it. It models no depth and never loses events
// (the VM test shows the kernel's overflow); `fail` makes calls refuse with an errno.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeAddon } from '../../main/node/native/addon-types';

export interface FifoVeventAddon {
  addon: NativeAddon;
  triggered(): number;
  cleanup(): void;
}

const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

export function fifoVeventAddon(
  real: NativeAddon,
  opts: { fail?: Partial<Record<'viommuAlloc' | 'veventqAlloc' | 'triggerVevent', string>> } = {},
): FifoVeventAddon {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-fifo-vevent-'));
  const p = path.join(dir, 'q');
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo: ${String(r.stderr)}`);
  let readFd = -1;
  let writeFd = -1;
  let seq = 0;
  let virtId = 0;
  let nextId = 1;
  const fail = (name: keyof NonNullable<typeof opts.fail>): void => {
    const code = opts.fail?.[name];
    if (code) throw errno(code, `${name}: ${code} (test double)`);
  };
  const addon = {
    ...real,
    openIommufd: () => 1000,
    close: (fd: number) => {
      if (fd === writeFd) return;
      if (fd !== 1000) closeSync(fd);
    },
    testCmdAvailable: () => true,
    ioasAlloc: () => nextId++,
    mockDomain: () => ({ stdevId: nextId++, hwptId: nextId++, idevId: nextId++ }),
    hwptAlloc: () => nextId++,
    getHwInfo: () => ({
      dataType: 0xfeedbeef,
      dataLen: 4,
      maxPasidLog2: 0,
      capabilities: 0n,
      data: new Uint8Array([0xef, 0xbe, 0xad, 0xde]).buffer,
    }),
    viommuAlloc: () => {
      fail('viommuAlloc');
      return { viommuId: nextId++, data: new ArrayBuffer(0) };
    },
    veventqAlloc: () => {
      fail('veventqAlloc');
      readFd = openSync(p, constants.O_RDWR | constants.O_NONBLOCK);
      writeFd = openSync(p, constants.O_WRONLY | constants.O_NONBLOCK);
      return { veventqId: nextId++, veventqFd: readFd };
    },
    vdeviceAlloc: (_fd: number, _v: number, _d: number, id: bigint) => {
      virtId = Number(id);
      return nextId++;
    },
    mockDomainReplace: (_fd: number, _s: number, pt: number) => pt,
    ioasMapAnon: () => 0x1000000n,
    // A kernel without HW queues (6.15, 6.16): the source goes on without one.
    hwQueueAlloc: () => {
      throw errno('ENOTTY', 'hwQueueAlloc: ENOTTY (test double)');
    },
    triggerVevent: () => {
      fail('triggerVevent');
      const b = Buffer.alloc(12);
      b.writeUInt32LE(0, 0);
      b.writeUInt32LE(seq++, 4);
      b.writeUInt32LE(virtId, 8);
      writeSync(writeFd, b);
    },
  } as NativeAddon;
  return {
    addon,
    triggered: () => seq,
    cleanup: () => {
      if (writeFd >= 0) closeSync(writeFd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
