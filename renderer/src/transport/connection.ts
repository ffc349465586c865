// Connection state shared by every transport, shown by the connection banner.
import { reactive } from 'vue';

export type ConnectionPhase = 'connecting' | 'open' | 'reconnecting' | 'refused';

export interface ConnectionState {
  phase: ConnectionPhase;
  /** Human explanation when not open (why, and what to do). */
  message: string;
  /** Reconnect attempts since the last successful open. */
  attempts: number;
  /** Increments on every successful (re)open; stores reload when it changes. */
  generation: number;
}

export const connection: ConnectionState = reactive({
  phase: 'connecting',
  message: 'Connecting to the iommuscope core…',
  attempts: 0,
  generation: 0,
});
