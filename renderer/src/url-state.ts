// View state kept in the URL's hash query (`#tab=Faults&filter=dev%3D%3D2`),
// so a reload or a copied link shows the same view. The search part
// (`?token=…`) is the core's and is never touched. Writes replace the current
// history entry: typing in a field must not fill the back button.
import { watch, type Ref } from 'vue';

/** The hash query of `hash` (`#a=1&b=2`, with or without the `#`). */
export function parseHashQuery(hash: string): URLSearchParams {
  return new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
}

/** `hash` with `patch` applied: a string sets a key, null or '' removes it. Keys keep their order. */
export function patchHashQuery(hash: string, patch: Record<string, string | null>): string {
  const params = parseHashQuery(hash);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === '') params.delete(key);
    else params.set(key, value);
  }
  const text = params.toString();
  return text ? `#${text}` : '';
}

/** One value of the page's hash query, or null. */
export function getUrlParam(key: string): string | null {
  return parseHashQuery(location.hash).get(key);
}

/** Sets (string) or removes (null, '') keys of the page's hash query without a history entry. */
export function setUrlParams(patch: Record<string, string | null>): void {
  const hash = patchHashQuery(location.hash, patch);
  if (hash === location.hash || (hash === '' && location.hash === '')) return;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
}

export interface UrlCodec<T> {
  /** The value for the URL's text, or undefined when the text is not a valid value (ignored). */
  parse(text: string): T | undefined;
  /** The URL's text for a value; null or '' leaves the key out (the default value). */
  format(value: T): string | null;
}

/** Codec of a plain string; the empty string is left out of the URL. */
export const stringCodec: UrlCodec<string> = {
  parse: (text) => text,
  format: (value) => value,
};

/**
 * Keeps `target` and the hash key `key` in step: the URL's value (when valid)
 * is applied once now, and every later change of `target` is written back.
 * Returns the watch's stop function.
 */
export function bindUrlState<T>(key: string, target: Ref<T>, codec: UrlCodec<T>): () => void {
  const text = getUrlParam(key);
  if (text !== null) {
    const value = codec.parse(text);
    if (value !== undefined) target.value = value;
  }
  return watch(target, (value) => setUrlParams({ [key]: codec.format(value) }), {
    deep: true,
    immediate: true,
  });
}
