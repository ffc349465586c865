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
          ? contractProblem(addon)
          : 'the addon has no createFaultQueue yet';
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
  }
  return reason ? undefined : addon;
}

/** Why the built addon does not speak the group-identity queue contract, if it does not. */
function contractProblem(a: NativeAddon): string | undefined {
  const q = a.createFaultQueue({ kind: 'sim' });
  try {
    return typeof q.id === 'number'
      ? undefined
      : 'the built addon predates the group-identity fault queue contract (no queue id): rebuild it (node scripts/build-native.mjs) from a tree with the native side of addon-types.ts';
  } finally {
    q.close();
  }
}

/** undefined when the addon loads, else why tests needing it skip. */
export function addonSkipReason(): string | undefined {
  tryLoadAddon();
  return reason ?? undefined;
}
