// The Faults view's filter text in the page URL (`?…&filter=TEXT`), so a
// reload or a shared link keeps it. Other query parameters (the token) are
// left as they are. A small stand-in until the shared URL view state
// (renderer/src/url-state.ts, another branch) is merged; then this moves there.
import { parseFilter } from '../../main/common/filter';

const PARAM = 'filter';

/** The filter text in the URL, when there is one and it parses. */
export function urlFilterText(): string {
  try {
    const text = new URL(window.location.href).searchParams.get(PARAM) ?? '';
    if (text.length > 4096) return '';
    parseFilter(text);
    return text;
  } catch {
    return '';
  }
}

export function setUrlFilterText(text: string): void {
  try {
    const url = new URL(window.location.href);
    if (text) url.searchParams.set(PARAM, text);
    else url.searchParams.delete(PARAM);
    if (url.href !== window.location.href)
      window.history.replaceState(window.history.state, '', url);
  } catch {
    // No URL to write (an unusual embedding): the filter still applies.
  }
}
