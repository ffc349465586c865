// Event listeners by name, validated once against the contract's schemas
// before any store sees the payload.
import {
  events,
  isEventName,
  type EventName,
  type EventPayload,
} from '../../../main/common/contract';
import { validate, type Schema } from '../../../main/common/schema';

type Listener = (payload: never) => void;

export class EventHub {
  private readonly listeners = new Map<EventName, Set<Listener>>();

  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Validates and delivers; returns an error message for a bad event instead of throwing. */
  emit(event: string, payload: unknown): string | undefined {
    if (!isEventName(event)) return `unknown event '${event}'`;
    try {
      validate(events[event] as Schema<unknown>, payload, event);
    } catch (err) {
      return (err as Error).message;
    }
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (p: unknown) => void)(payload);
      } catch (err) {
        console.error(`listener for '${event}' failed`, err);
      }
    }
    return undefined;
  }
}
