// Factory: command-line / IPC options → an open FaultSource.
import type { NativeAddon } from '../native/addon-types';
import { loadAddon } from '../native/load';
import { explain } from '../errors';
import type { FaultSource, QueueTuning, SourceKind } from './fault-source';
import { IommufdSource } from './iommufd-source';
import { MockSource } from './mock-source';
import { SimSource } from './sim-source';
import { ReplaySource } from './replay-source';

export interface OpenSourceOptions extends QueueTuning {
  source: SourceKind;
  /** iommufd: the VFIO device cdev. */
  device?: string;
  /** iommufd: attach to this PASID; mock: the first PASID to attach (through pasidLast). */
  pasid?: number;
  /** mock: attach PASIDs pasid..pasidLast (default: pasid alone). */
  pasidLast?: number;
  /** iommufd: anonymous memory to map into the IOAS. */
  mapBytes?: number;
  /** sim: PRI credit, groups outstanding before the devices stall (default 512). */
  outstandingLimit?: number;
  /** Default /dev/iommu. */
  iommuPath?: string;
  log?: (step: string) => void;
  /** replay: the recording to play, and its speed (default 1). */
  replay?: { file: string; speed?: number };
  /** For tests; default: the built addon. */
  addon?: NativeAddon;
}

export function openSource(opts: OpenSourceOptions): FaultSource {
  if (opts.source === 'replay') {
    if (!opts.replay) throw new TypeError('the replay source needs a recording file');
    const { file, speed } = opts.replay;
    return new ReplaySource(file, speed !== undefined ? { speed } : {});
  }
  let addon: NativeAddon;
  try {
    addon = opts.addon ?? loadAddon();
  } catch (err) {
    throw explain(err, 'addon');
  }
  const tuning: QueueTuning = {
    ...(opts.jsBufferRecords !== undefined ? { jsBufferRecords: opts.jsBufferRecords } : {}),
    ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
  };
  const common = {
    ...tuning,
    ...(opts.iommuPath !== undefined ? { iommuPath: opts.iommuPath } : {}),
    ...(opts.log !== undefined ? { log: opts.log } : {}),
  };
  switch (opts.source) {
    case 'sim':
      return new SimSource(addon, {
        ...tuning,
        ...(opts.outstandingLimit !== undefined ? { outstandingLimit: opts.outstandingLimit } : {}),
      });
    case 'mock': {
      if (opts.pasid === undefined) return MockSource.open(addon, common);
      const last = opts.pasidLast ?? opts.pasid;
      const pasids = Array.from({ length: last - opts.pasid + 1 }, (_, i) => opts.pasid! + i);
      return MockSource.open(addon, { ...common, pasids });
    }
    case 'iommufd':
      if (opts.pasidLast !== undefined && opts.pasidLast !== opts.pasid)
        throw new TypeError('the iommufd source attaches one PASID (--pasid N)');
      if (!opts.device)
        throw new TypeError('the iommufd source needs a device (/dev/vfio/devices/vfioN)');
      return IommufdSource.open(addon, {
        ...common,
        device: opts.device,
        ...(opts.pasid !== undefined ? { pasid: opts.pasid } : {}),
        ...(opts.mapBytes !== undefined ? { mapBytes: opts.mapBytes } : {}),
      });
  }
}
