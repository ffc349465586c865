// The fault session: which source is open, the automatic-answer policy, the
// drain code and the injection form. Policy and injection text are checked
// locally with the same grammar modules the CLI uses before anything is sent.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { SessionState } from '../../../main/common/contract';
import type { FaultSourceKind } from '../../../main/common/iommufd-objects';
import { parseInject, INJECT_DEFAULTS } from '../../../main/common/inject';
import { parsePolicy, parsePolicyRules, policyProblemFor } from '../../../main/common/policy';
import { errorMessage } from '../format';
import { useCore } from '../transport';
import { useAppStore } from './app';
import { bindUrlState, type UrlCodec } from '../url-state';

/**
 * null when `text` is a valid --policy word or JSON rules document that
 * `source` can run (the simulator cannot map), else why not.
 */
export function checkPolicy(text: string, source: FaultSourceKind | null = null): string | null {
  const t = text.trim();
  try {
    let spec;
    if (t.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(t);
      } catch (err) {
        return `rules JSON does not parse: ${errorMessage(err)}`;
      }
      spec = parsePolicyRules(json, 'rules');
    } else spec = parsePolicy(t);
    return policyProblemFor(spec, source);
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

const INJECT_FORM_DEFAULTS: InjectForm = {
  count: '10000',
  rate: '1000',
  pasids: '0',
  devices: '2',
  group: '1',
  perm: 'r',
  addr: INJECT_DEFAULTS.addr,
};

/** The inject form in the URL as `key=value,…`, defaults left out; unknown keys are ignored. */
export const injectFormCodec: UrlCodec<InjectForm> = {
  parse(text) {
    const form = { ...INJECT_FORM_DEFAULTS };
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      const key = part.slice(0, eq) as keyof InjectForm;
      if (eq > 0 && Object.prototype.hasOwnProperty.call(form, key)) form[key] = part.slice(eq + 1);
    }
    return form;
  },
  format(form) {
    return (Object.keys(INJECT_FORM_DEFAULTS) as (keyof InjectForm)[])
      .filter((k) => form[k] !== INJECT_FORM_DEFAULTS[k])
      .map((k) => `${k}=${form[k]}`)
      .join(',');
  },
};

export const useSessionStore = defineStore('session', () => {
  const state = shallowRef<SessionState | null>(null);
  const busy = ref(false);
  const policyText = ref('success');
  /** True once the user edited the policy box (then session updates do not overwrite it). */
  const policyDirty = ref(false);
  const injectForm = reactive<InjectForm>({ ...INJECT_FORM_DEFAULTS });
  // The form survives a reload: `#inject=count=500,rate=50` (fields that differ from the defaults).
  bindUrlState(
    'inject',
    computed({
      get: () => ({ ...injectForm }),
      set: (v: InjectForm) => void Object.assign(injectForm, v),
    }),
    injectFormCodec,
  );

  const open = computed(() => state.value?.source != null);
  const policyProblem = computed(() => checkPolicy(policyText.value, state.value?.source ?? null));
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

  /** Error notices of failed session.open/close: stale once a later open or close succeeds. */
  let lifecycleErrors: number[] = [];

  async function run<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    try {
      return await fn();
    } catch (err) {
      const id = useAppStore().notify('error', `${what}: ${errorMessage(err)}`);
      if (what.startsWith('session.')) lifecycleErrors.push(id);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  function clearLifecycleErrors(): void {
    const app = useAppStore();
    for (const id of lifecycleErrors) app.dismiss(id);
    lifecycleErrors = [];
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
    if (next) {
      clearLifecycleErrors();
      setState(next);
    }
    return next !== undefined && next.source !== null;
  }

  async function closeSession(): Promise<boolean> {
    const next = await run('session.close', () => useCore().request('session.close', {}));
    if (next) {
      clearLifecycleErrors();
      setState(next);
    }
    return next !== undefined;
  }

  /** Tears the open session down (draining with its drain code), then opens `source`. */
  async function reopenSession(
    source: FaultSourceKind,
    opts: { device?: string; pasid?: number; file?: string } = {},
  ): Promise<boolean> {
    if (open.value && !(await closeSession())) return false;
    return openSession(source, opts);
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
    reopenSession,
    applyPolicy,
    setDrainCode,
    startInject,
    stopInject,
  };
});
