// The fault session: which source is open, the automatic-answer policy, the
// drain code and the injection form. Policy and injection text are checked
// locally with the same grammar modules the CLI uses before anything is sent.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { SessionState } from '../../../main/common/contract';
import type { FaultSourceKind } from '../../../main/common/iommufd-objects';
import { parseInject, INJECT_DEFAULTS } from '../../../main/common/inject';
import { parsePolicy, parsePolicyRules } from '../../../main/common/policy';
import { errorMessage } from '../format';
import { useCore } from '../transport';
import { useAppStore } from './app';

/** null when `text` is a valid --policy word or JSON rules document, else why not. */
export function checkPolicy(text: string): string | null {
  const t = text.trim();
  try {
    if (t.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(t);
      } catch (err) {
        return `rules JSON does not parse: ${errorMessage(err)}`;
      }
      parsePolicyRules(json, 'rules');
    } else parsePolicy(t);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

export interface InjectForm {
  count: string;
  rate: string;
  pasids: string;
  devices: string;
  group: string;
  perm: string;
  addr: string;
}

/** The form as --inject text; empty fields are left to the grammar's defaults. */
export function injectSpecText(form: InjectForm, source: FaultSourceKind | null): string {
  const parts: string[] = [];
  const add = (key: string, value: string): void => {
    if (value.trim() !== '') parts.push(`${key}=${value.trim()}`);
  };
  add('count', form.count);
  add('rate', form.rate);
  add('pasids', form.pasids);
  if (source === 'sim') {
    add('devices', form.devices);
    add('group', form.group);
  }
  add('perm', form.perm);
  add('addr', form.addr);
  return parts.join(',');
}

export const useSessionStore = defineStore('session', () => {
  const state = shallowRef<SessionState | null>(null);
  const busy = ref(false);
  const policyText = ref('success');
  /** True once the user edited the policy box (then session updates do not overwrite it). */
  const policyDirty = ref(false);
  const injectForm = reactive<InjectForm>({
    count: '10000',
    rate: '1000',
    pasids: '0',
    devices: '2',
    group: '1',
    perm: 'r',
    addr: INJECT_DEFAULTS.addr,
  });

  const open = computed(() => state.value?.source != null);
  const policyProblem = computed(() => checkPolicy(policyText.value));
  const injectText = computed(() => injectSpecText(injectForm, state.value?.source ?? null));
  const injectProblem = computed(() => {
    try {
      const spec = parseInject(injectText.value);
      if (state.value?.source === 'mock' && spec.groupPages !== 1) {
        return 'the mock device only makes one-page groups';
      }
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  });

  function setState(next: SessionState): void {
    state.value = next;
    if (!policyDirty.value) policyText.value = next.policy || policyText.value;
  }

  async function load(): Promise<void> {
    setState(await useCore().request('session.state', {}));
  }

  async function run<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    try {
      return await fn();
    } catch (err) {
      useAppStore().notify('error', `${what}: ${errorMessage(err)}`);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  async function openSession(
    source: FaultSourceKind,
    opts: { device?: string; pasid?: number; policy?: string; file?: string } = {},
  ): Promise<boolean> {
    const policy = opts.policy ?? (policyProblem.value ? undefined : policyText.value.trim());
    const core = useCore();
    const next = await run('session.open', () =>
      source === 'replay'
        ? core.request('session.open', { source, file: opts.file ?? '' })
        : source === 'iommufd'
          ? core.request('session.open', {
              source,
              device: opts.device ?? '',
              ...(opts.pasid !== undefined ? { pasid: opts.pasid } : {}),
              ...(policy ? { policy } : {}),
            })
          : core.request('session.open', { source, ...(policy ? { policy } : {}) }),
    );
    if (next) setState(next);
    return next !== undefined && next.source !== null;
  }

  async function closeSession(): Promise<void> {
    const next = await run('session.close', () => useCore().request('session.close', {}));
    if (next) setState(next);
  }

  async function applyPolicy(): Promise<boolean> {
    const problem = policyProblem.value;
    if (problem) {
      useAppStore().notify('error', `Policy not sent: ${problem}`);
      return false;
    }
    const spec = policyText.value.trim();
    const next = await run('policy.set', () => useCore().request('policy.set', { spec }));
    if (next) {
      policyDirty.value = false;
      setState(next);
      useAppStore().notify(
        'info',
        `Policy set: ${spec.length > 60 ? spec.slice(0, 60) + '…' : spec}`,
      );
    }
    return next !== undefined;
  }

  async function setDrainCode(code: 0 | 1): Promise<void> {
    const next = await run('session.setDrainCode', () =>
      useCore().request('session.setDrainCode', { code }),
    );
    if (next) setState(next);
  }

  async function startInject(): Promise<void> {
    if (injectProblem.value) {
      useAppStore().notify('error', `Injection not started: ${injectProblem.value}`);
      return;
    }
    const spec = injectText.value;
    const ok = await run('inject.start', () => useCore().request('inject.start', { spec }));
    if (ok) useAppStore().notify('info', `Injecting ${spec}`);
  }

  async function stopInject(): Promise<void> {
    await run('inject.stop', () => useCore().request('inject.stop', {}));
  }

  return {
    state,
    busy,
    open,
    policyText,
    policyDirty,
    policyProblem,
    injectForm,
    injectText,
    injectProblem,
    setState,
    load,
    openSession,
    closeSession,
    applyPolicy,
    setDrainCode,
    startInject,
    stopInject,
  };
});
