// Wires core events into the stores and reloads every store after each
// (re)connection, then asks the core to resync its stream.
import type { Pinia } from 'pinia';
import { errorMessage } from '../format';
import { onConnected, useCore } from '../transport';
import { useActivityStore } from './activity';
import { useAppStore } from './app';
import { useEventsStore } from './events';
import { useFaultsStore } from './faults';
import { useHostStore } from './host';
import { useLiveStore } from './live';
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
  const events = useEventsStore(pinia);

  core.on('frame', (f) => {
    live.applyFrame(f);
    faults.onFrame(f);
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
      } catch (err) {
        app.notify('error', `Loading state from the core failed: ${errorMessage(err)}`);
      }
    })();
  });
}
