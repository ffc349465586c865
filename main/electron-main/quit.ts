// What happens to pending groups when the window closes or the app quits:
// the user picks Drain as Invalid / Drain as Success / Cancel (default: the
// session's drain-code setting), and the drain happens BEFORE the window
// goes away. Pure, so it is tested without Electron.
import type { MessageBoxOptions } from 'electron';

export const QUIT_BUTTONS = ['Drain as Invalid', 'Drain as Success', 'Cancel'] as const;
const CANCEL = 2;

export function quitPrompt(pending: number, drainCode: 0 | 1): MessageBoxOptions {
  return {
    type: 'question',
    buttons: [...QUIT_BUTTONS],
    defaultId: drainCode === 1 ? 0 : 1,
    cancelId: CANCEL,
    noLink: true,
    title: 'Pending page requests',
    message: `${pending} page request group${pending === 1 ? ' is' : 's are'} still waiting for an answer.`,
    detail:
      'A device waits until each group is answered. Answer them before quitting: Invalid makes ' +
      'the device see a failed translation, Success makes it retry the access.',
  };
}

/** The drain code for a dialog answer, or 'cancel' to keep running. */
export function quitChoice(response: number): 0 | 1 | 'cancel' {
  if (response === 0) return 1;
  if (response === 1) return 0;
  return 'cancel';
}

/** Arguments meant for iommuscope: after the main script (dev) or argv[0] (packaged), minus Chromium switches. */
export function appArgs(argv: string[], mainScript: string, packaged: boolean): string[] {
  let rest = argv.slice(1);
  if (!packaged) {
    const at = rest.findIndex(
      (a) => a === mainScript || a.endsWith('/electron-main/main.js') || a === '.',
    );
    if (at >= 0) rest = rest.slice(at + 1);
  }
  const chromium =
    /^--(no-sandbox|inspect(-brk)?(=.*)?|remote-debugging-port=.*|enable-logging.*|disable-gpu.*|ozone-platform=.*)$/;
  return rest.filter((a) => !chromium.test(a));
}
