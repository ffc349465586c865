// The Electron app's two ways to end, as plain functions of their inputs (so
// they are tested without Electron): a quit from the UI (ask when groups are
// pending, then drain with the answer) and a stop signal (drain with the
// drain-code setting, no dialog). Both end like `serve`: one summary line and
// the documented exit status (cli/dashboard-exit.ts).
import { closeDashboard, type ClosableCore } from '../node/cli/dashboard-exit';
import { quitChoice, quitPrompt } from './quit';
import type { MessageBoxOptions } from 'electron';

export interface QuitDeps {
  core: ClosableCore;
  /** Shows the dialog; resolves to the button index. */
  ask(prompt: MessageBoxOptions): Promise<number>;
  summary(obj: object): void;
  exit(status: number): void;
  log(line: string): void;
}

/** Quit from the UI. Resolves 'cancel' when the user chose to keep running. */
export async function quitFromUi(deps: QuitDeps): Promise<'cancel' | number> {
  const pending = deps.core.pendingCount();
  let code = deps.core.drainCode;
  if (pending > 0) {
    const choice = quitChoice(await deps.ask(quitPrompt(pending, code)));
    if (choice === 'cancel') return 'cancel';
    code = choice;
  }
  const { summary, status } = await closeDashboard(deps.core, 'quit', { code, log: deps.log });
  deps.summary(summary);
  deps.exit(status);
  return status;
}

/** A stop signal (SIGTERM, SIGHUP, ...): no dialog, the drain-code setting answers. */
export async function quitOnSignal(deps: Omit<QuitDeps, 'ask'>, reason: string): Promise<number> {
  const { summary, status } = await closeDashboard(deps.core, reason, { log: deps.log });
  deps.summary(summary);
  deps.exit(status);
  return status;
}
