// App-wide state: what the core reported about itself, the active tab and
// transient notices (failed answers, lost devices, core messages).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo } from '../../../main/common/contract';
import { useCore } from '../transport';
import { bindUrlState } from '../url-state';

export const tabs = [
  'Host',
  'Live',
  'Faults',
  'Events',
  'Topology',
  'Session',
  'Activity',
] as const;
export type TabName = (typeof tabs)[number];

export interface Notice {
  id: number;
  level: 'info' | 'warning' | 'error';
  message: string;
  at: number;
}

/** Notices kept at all (the tray shows the newest few and "+N more"); older ones fall off. */
const MAX_NOTICES = 50;
/** Info and warnings go away by themselves; errors stay until dismissed. */
export const DISMISS_MS = { info: 5000, warning: 10000, error: 0 } as const;

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const tab = ref<TabName>('Host');
  // The tab survives a reload (`#tab=Faults`); Host, the default, is left out.
  bindUrlState('tab', tab, {
    parse: (text) => ((tabs as readonly string[]).includes(text) ? (text as TabName) : undefined),
    format: (name) => (name === 'Host' ? null : name),
  });
  const notices = ref<Notice[]>([]);
  let nextNotice = 1;

  async function load(): Promise<void> {
    info.value = await useCore().request('app.info', {});
  }

  /** Shows a notice; returns its id (for dismiss). */
  function notify(level: Notice['level'], message: string): number {
    const notice = { id: nextNotice++, level, message, at: Date.now() };
    notices.value = [...notices.value, notice].slice(-MAX_NOTICES);
    const after = DISMISS_MS[level];
    if (after) setTimeout(() => dismiss(notice.id), after);
    return notice.id;
  }

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  function dismissAll(): void {
    notices.value = [];
  }

  return { info, tab, notices, load, notify, dismiss, dismissAll };
});
