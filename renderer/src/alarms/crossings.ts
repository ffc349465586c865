// Alarms fire once per crossing: a condition that turns true raises one
// notice and stays quiet while it holds; once false again it is re-armed.
// Conditions are keyed (e.g. 'pending', 'pri:0000:00:03.0'), so each device
// crosses on its own. A key not reported in an update is taken as false.

export interface Condition {
  key: string;
  active: boolean;
  message: string;
}

export class Crossings {
  private readonly active = new Set<string>();

  /** The conditions that just turned true, in the order given. */
  update(conditions: readonly Condition[], scope: string): Condition[] {
    const now = new Set<string>();
    const fired: Condition[] = [];
    for (const c of conditions) {
      if (!c.active) continue;
      now.add(c.key);
      if (!this.active.has(c.key)) fired.push(c);
    }
    // Re-arm this scope's keys that no longer hold.
    for (const k of [...this.active]) {
      if (k.startsWith(`${scope}:`) && !now.has(k)) this.active.delete(k);
    }
    for (const k of now) this.active.add(k);
    return fired;
  }

  /** Forget every state (a new session: its counters start again). */
  reset(scope?: string): void {
    if (scope === undefined) this.active.clear();
    else for (const k of [...this.active]) if (k.startsWith(`${scope}:`)) this.active.delete(k);
  }
}
