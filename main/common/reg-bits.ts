// Table-driven decoding of 64-bit capability registers into named features.
import type { TopologyProblem, UnitFeature } from './host-topology';

export interface BitField {
  key: string;
  label: string;
  /** Lowest bit of the field. */
  lo: number;
  /** Highest bit; absent for a one-bit flag. */
  hi?: number;
  /** Turns the raw field value into what is shown (e.g. width + 1). */
  map?: (raw: number) => number | string;
}

/** Parses a register as sysfs prints it ('d2008c22260286' or '0x...'); null when malformed. */
export function parseHex64(text: string): bigint | null {
  const t = text.trim();
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(t)) return null;
  return BigInt(t.startsWith('0x') ? t : `0x${t}`);
}

export function field(v: bigint, lo: number, hi = lo): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

export function decodeFields(reg: string, v: bigint, defs: readonly BitField[]): UnitFeature[] {
  return defs.map((d) => {
    const raw = field(v, d.lo, d.hi ?? d.lo);
    const value = d.map ? d.map(raw) : d.hi === undefined ? raw === 1 : raw;
    const source = d.hi === undefined ? `${reg}[${d.lo}]` : `${reg}[${d.hi}:${d.lo}]`;
    return { key: d.key, label: d.label, value, source };
  });
}

/** Reads one register out of the raw map, recording a problem when missing or malformed. */
export function register(
  registers: Record<string, string>,
  name: string,
  where: string,
  problems: TopologyProblem[],
): bigint | null {
  const text = registers[name];
  if (text === undefined) return null;
  const v = parseHex64(text);
  if (v === null) {
    problems.push({
      path: `${where}/${name}`,
      code: 'EPARSE',
      message: `${where}/${name}: expected a 64-bit hex value, got ${JSON.stringify(text.slice(0, 40))}`,
    });
  }
  return v;
}

export function flag(features: UnitFeature[], key: string): boolean | undefined {
  const f = features.find((x) => x.key === key);
  return f === undefined ? undefined : f.value === true;
}

export function num(features: UnitFeature[], key: string): number | undefined {
  const f = features.find((x) => x.key === key);
  return typeof f?.value === 'number' ? f.value : undefined;
}
