// Search over the Host view's devices: a query of words, every word must
// match (case-insensitive substring) one of the device's facets: its address,
// names, driver, group, unit, VFIO cdev, and one facet per capability it has
// ('ATS', 'PRI', 'PASID', 'ACS', 'MSI-X', ...) plus the PRI status bits that
// are set ('stopped', 'response-failure', 'UPRGI', 'PRPR'). So "PRI stopped"
// finds the devices whose page requests are stopped, "vfio" the ones bound
// to VFIO. The facets that matched are returned for highlighting.
import type { HostDevice } from './host-topology';

export type FacetKey =
  | 'address'
  | 'vendor'
  | 'device'
  | 'class'
  | 'driver'
  | 'group'
  | 'unit'
  | 'cdev'
  | 'ids'
  /** `cap:ATS`, `cap:PRI`, `cap:PASID`, `cap:ACS`, `cap:<capability list name>`. */
  | `cap:${string}`
  /** `pri:stopped`, `pri:response-failure`, `pri:UPRGI`, `pri:PRPR`. */
  | `pri:${string}`;

export interface Facet {
  key: FacetKey;
  text: string;
}

/** The PCI address of the bridge above `d`: the parent folder of its sysfs path, when that is a PCI device. */
export function upstreamBridge(d: HostDevice): string | null {
  const parts = d.sysfsPath.split('/');
  const parent = parts[parts.length - 2] ?? '';
  return /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(parent) ? parent : null;
}

const hex4 = (n: number | undefined): string =>
  n === undefined ? '' : n.toString(16).padStart(4, '0');

export function deviceFacets(d: HostDevice): Facet[] {
  const out: Facet[] = [{ key: 'address', text: d.address }];
  const add = (key: FacetKey, text: string | null | undefined): void => {
    if (text) out.push({ key, text });
  };
  add('vendor', d.vendorName);
  add('device', d.deviceName);
  add('class', d.className);
  if (d.vendorId !== undefined) add('ids', `${hex4(d.vendorId)}:${hex4(d.deviceId)}`);
  add('driver', d.driver);
  if (d.group !== null) add('group', `group ${d.group}`);
  add('unit', d.unit);
  add('cdev', d.vfioCdev);
  if (d.ats.supported) add('cap:ATS', 'ATS');
  if (d.pri.supported) add('cap:PRI', 'PRI');
  if (d.pasid.supported) add('cap:PASID', 'PASID');
  if (d.acs?.supported) add('cap:ACS', 'ACS');
  const s = d.pri.status;
  if (s?.stopped) add('pri:stopped', 'stopped');
  if (s?.responseFailure) add('pri:response-failure', 'response-failure RF');
  if (s?.uprgi) add('pri:UPRGI', 'UPRGI');
  if (s?.prgResponsePasidRequired) add('pri:PRPR', 'PRPR');
  const named = new Set(out.map((f) => f.key));
  for (const c of d.capabilities ?? []) {
    const key: FacetKey = `cap:${c.name}`;
    if (!named.has(key)) add(key, c.name);
    named.add(key);
  }
  return out;
}

/** The words of a query, lower-cased; an empty list matches everything. */
export function queryTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/**
 * The facets of `d` that match any term, or null when some term matches
 * none of them (the device is filtered out). With no terms: an empty set.
 */
export function matchDevice(d: HostDevice, terms: string[]): Set<FacetKey> | null {
  const hits = new Set<FacetKey>();
  if (!terms.length) return hits;
  const facets = deviceFacets(d).map((f) => ({ ...f, lower: f.text.toLowerCase() }));
  for (const t of terms) {
    const matching = facets.filter((f) => f.lower.includes(t));
    if (!matching.length) return null;
    for (const f of matching) hits.add(f.key);
  }
  return hits;
}

export interface TextPiece {
  text: string;
  hit: boolean;
}

/** `text` cut into pieces, the parts matching a term marked (for <mark>). */
export function highlightPieces(text: string, terms: string[]): TextPiece[] {
  if (!terms.length || !text) return [{ text, hit: false }];
  const lower = text.toLowerCase();
  const marked = new Array<boolean>(text.length).fill(false);
  for (const t of terms) {
    for (let at = lower.indexOf(t); at >= 0; at = lower.indexOf(t, at + 1)) {
      marked.fill(true, at, at + t.length);
    }
  }
  const pieces: TextPiece[] = [];
  for (let i = 0; i < text.length; i++) {
    const last = pieces[pieces.length - 1];
    if (last && last.hit === marked[i]) last.text += text[i];
    else pieces.push({ text: text[i]!, hit: marked[i]! });
  }
  return pieces;
}
