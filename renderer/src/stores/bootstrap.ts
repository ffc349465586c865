// Wires core events into the stores and reloads every store after each
// (re)connection, then asks the core to resync its stream.
import type { Pinia } from 'pinia';
import { watch } from 'vue';
import { errorMessage } from '../format';
import { onConnected, useCore } from '../transport';
import { useActivityStore } from './activity';
import { useAppStore } from './app';
import { useEventsStore } from './events';
import { useFaultsStore } from './faults';
import { useHostStore } from './host';
import { useLiveStore } from './live';
import { useReplayStore } from './replay';
import { useRateArchiveStore } from './rate-archive';
import { useAlarmsStore } from './alarms';
import { useSessionStore } from './session';
import { useTopologyStore } from './topology';

export function bootstrapStores(pinia: Pinia): void {
  const core = useCore();
  const app = useAppStore(pinia);
  const host = useHostStore(pinia);
  const live = useLiveStore(pinia);
  const faults = useFaultsStore(pinia);
  const session = useSessionStore(pinia);
  const topology = useTopologyStore(pinia);
  const activity = useActivityStore(pinia);
  const replay = useReplayStore(pinia);
  const alarms = useAlarmsStore(pinia);
  watch(
    () => host.topology,
    (t) => alarms.checkHost(t),
  );
  watch(
    () => activity.faults,
    (f) => alarms.checkActivity(f),
  );
  const events = useEventsStore(pinia);

  core.on('frame', (f) => {
    // A replay sought back replays from its start: the views start over with it.
    const wentBack = replay.applyFrame(f.replay ?? null);
    if (wentBack) live.reset();
    live.applyFrame(f);
    if (wentBack) faults.reload();
    else faults.onFrame(f);
    alarms.checkFrame(f);
  });
  core.on('host.changed', (u) => host.applyUpdate(u));
  core.on('session.changed', (s) => {
    const opened = s.source !== null && session.state?.startedAt !== s.startedAt;
    session.setState(s);
    if (opened) {
      live.reset();
      faults.reload();
    }
  });
  core.on('topology.changed', (o) => topology.set(o));
  core.on('notice', (n) => app.notify(n.level, n.message));
  core.on('activity', (b) => activity.applyBatch(b));
  core.on('vevent.frame', (f) => events.applyFrame(f));

  onConnected(() => {
    void (async () => {
      try {
        await Promise.all([
          app.load(),
          session.load(),
          host.load(),
          topology.load(),
          activity.load(),
          events.load(),
        ]);
        faults.reload(true);
        await core.request('stream.resync', {});
        await useRateArchiveStore(pinia).seedLive();
      } catch (err) {
        app.notify('error', `Loading state from the core failed: ${errorMessage(err)}`);
      }
    })();
  });
}
