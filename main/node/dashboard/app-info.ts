// app.info: can this process use /dev/iommu (and if not, why and how to fix
// it), is the iommufd selftest mock available, which VFIO device cdevs exist.
// Probed on each call (a few syscalls), never assumed.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { AppInfo } from '../../common/contract';
import type { NativeAddon } from '../native/addon-types';
import { loadAddon } from '../native/load';
import { explain } from '../errors';

export interface AppInfoOptions {
  version: string;
  mode: AppInfo['mode'];
  iommuPath?: string;
  /** Folder holding the VFIO device cdevs; default /dev/vfio/devices. */
  vfioDir?: string;
  /** For tests; default: the built addon (absence is reported, not thrown). */
  addon?: () => NativeAddon;
}

export function listVfioDevices(dir = '/dev/vfio/devices'): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^vfio\d+$/.test(n))
      .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

export function probeAppInfo(opts: AppInfoOptions): AppInfo {
  const iommuPath = opts.iommuPath ?? '/dev/iommu';
  const base = {
    version: opts.version,
    mode: opts.mode,
    vfioDevices: listVfioDevices(opts.vfioDir),
  };
  let addon: NativeAddon;
  try {
    addon = (opts.addon ?? loadAddon)();
  } catch (err) {
    return { ...base, iommuProblem: explain(err, 'addon').message, mockAvailable: false };
  }
  let fd: number;
  try {
    fd = addon.openIommufd(iommuPath);
  } catch (err) {
    return {
      ...base,
      iommuProblem: explain(err, 'open-iommufd', iommuPath).message,
      mockAvailable: false,
    };
  }
  try {
    let mock = false;
    try {
      mock = addon.testCmdAvailable(fd);
    } catch {
      mock = false;
    }
    return { ...base, iommuProblem: null, mockAvailable: mock };
  } finally {
    try {
      addon.close(fd);
    } catch {
      // Closing a probe fd cannot lose anything.
    }
  }
}
