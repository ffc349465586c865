// Serialisable specs (main/common) → the addon's argument shapes (bigint addresses).
import type { InjectSpec } from '../../common/inject';
import type { PolicyAction, PolicySpec } from '../../common/policy';
import type {
  InjectSpec as NativeInjectSpec,
  NativeAction,
  NativePolicy,
  NativeRule,
} from '../native/addon-types';
import { compileNativeMatch } from '../native/compile-match';

function toNativeAction(a: PolicyAction): NativeAction {
  return a.kind === 'delay' ? { kind: 'delay', ns: a.ns, code: a.code } : { kind: a.kind };
}

/** Throws MatchCompileError for a match the native reader cannot evaluate. */
export function toNativePolicy(spec: PolicySpec): NativePolicy {
  return {
    rules: spec.rules.map((r): NativeRule => ({
      match: compileNativeMatch(r.match),
      action: toNativeAction(r.action),
    })),
    fallback: toNativeAction(spec.fallback),
  };
}

export function toNativeInject(spec: InjectSpec): NativeInjectSpec {
  // outstanding is the device's PRI credit: a queue option (set when it opens), not the injection's.
  const { outstanding: _credit, ...rest } = spec;
  return { ...rest, addr: BigInt(spec.addr) };
}

/** The sim's PRI credit as a queue option, when one was asked for (--inject outstanding=N). */
export function outstandingOption(limit: number | undefined): { outstandingLimit?: number } {
  return limit !== undefined ? { outstandingLimit: limit } : {};
}

/** True when some group may stay pending forever under this policy (until a user or the drain answers). */
export function policyCanHold(spec: PolicySpec): boolean {
  return spec.fallback.kind === 'hold' || spec.rules.some((r) => r.action.kind === 'hold');
}
