// Unit tests that need the built native addon skip, saying why, when it is absent.
import type { NativeAddon } from '../../main/node/native/addon-types';
import { loadAddon } from '../../main/node/native/load';

let reason: string | undefined | null = null;
let addon: NativeAddon | undefined;

export function tryLoadAddon(): NativeAddon | undefined {
  if (reason === null) {
    try {
      addon = loadAddon();
      reason =
        typeof addon.createFaultQueue === 'function'
          ? undefined
          : 'the addon has no createFaultQueue yet';
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
  }
  return reason ? undefined : addon;
}

/** undefined when the addon loads, else why tests needing it skip. */
export function addonSkipReason(): string | undefined {
  tryLoadAddon();
  return reason ?? undefined;
}
