// Serialisable specs (main/common) → the addon's argument shapes (bigint addresses).
import type { InjectSpec } from '../../common/inject';
import type { PolicyAction, PolicySpec } from '../../common/policy';
import type {
  InjectSpec as NativeInjectSpec,
  NativeAction,
  NativePolicy,
  NativeRule,
} from '../native/addon-types';

function toNativeAction(a: PolicyAction): NativeAction {
  return a.kind === 'delay' ? { kind: 'delay', ns: a.ns, code: a.code } : { kind: a.kind };
}

export function toNativePolicy(spec: PolicySpec): NativePolicy {
  return {
    rules: spec.rules.map((r): NativeRule => {
      const rule: NativeRule = { action: toNativeAction(r.action) };
      if (r.devId !== undefined) rule.devId = r.devId;
      if (r.pasidMin !== undefined) rule.pasidMin = r.pasidMin;
      if (r.pasidMax !== undefined) rule.pasidMax = r.pasidMax;
      if (r.addrMin !== undefined) rule.addrMin = BigInt(r.addrMin);
      if (r.addrMax !== undefined) rule.addrMax = BigInt(r.addrMax);
      if (r.permAll !== undefined) rule.permAll = r.permAll;
      if (r.permNone !== undefined) rule.permNone = r.permNone;
      return rule;
    }),
    fallback: toNativeAction(spec.fallback),
  };
}

export function toNativeInject(spec: InjectSpec): NativeInjectSpec {
  return { ...spec, addr: BigInt(spec.addr) };
}

/** True when some group may stay pending forever under this policy (until a user or the drain answers). */
export function policyCanHold(spec: PolicySpec): boolean {
  return spec.fallback.kind === 'hold' || spec.rules.some((r) => r.action.kind === 'hold');
}
