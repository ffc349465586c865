// IOMMU lines of /proc/interrupts, and their rates between two samples.
// Lines look like " 24:   45   0  DMAR-MSI   0-edge   dmar0": irq, one
// count per CPU, then chip, hwirq-trigger and the action names. The IOMMU
// drivers name their vectors: dmarN (VT-d fault events), dmarN-prq (page
// requests), dmarN-perf, AMD-ViN-Evt/-PPR/-GA, arm-smmu-v3-evtq/-priq/-gerror.

export type IommuIrqKind =
  'fault' | 'page-request' | 'perf' | 'event-log' | 'guest-log' | 'global-error' | 'combined';

export interface InterruptLine {
  irq: string;
  perCpu: number[];
  total: number;
  chip: string;
  /** The action name(s), e.g. 'dmar0'. */
  name: string;
}

export interface IommuInterrupt extends InterruptLine {
  /** 'dmar0', 'ivhd0' (AMD index), 'arm-smmu-v3' (SMMU names no unit in the vector). */
  unit: string;
  kind: IommuIrqKind;
}

export interface InterruptsParse {
  cpus: number;
  lines: InterruptLine[];
  /** Lines that did not parse, raw. */
  unparsed: string[];
}

export function parseInterrupts(text: string): InterruptsParse {
  const rows = text.split('\n');
  const header = rows.shift() ?? '';
  const cpus = (header.match(/CPU\d+/g) ?? []).length;
  const lines: InterruptLine[] = [];
  const unparsed: string[] = [];
  for (const row of rows) {
    if (!row.trim()) continue;
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(row);
    if (!m) {
      unparsed.push(row);
      continue;
    }
    const tokens = m[2]!.trim().split(/\s+/);
    const perCpu: number[] = [];
    while (perCpu.length < cpus && tokens.length && /^\d+$/.test(tokens[0]!))
      perCpu.push(Number(tokens.shift()));
    if (perCpu.length === 0) {
      unparsed.push(row);
      continue;
    }
    // Named rows (NMI, LOC, ...) end with a description; numbered rows with chip, hwirq, names.
    const numbered = /^\d+$/.test(m[1]!);
    const chip = numbered ? (tokens.shift() ?? '') : '';
    if (numbered && tokens.length && /^\S*-(edge|level|fasteoi)$|^\d+$/i.test(tokens[0]!))
      tokens.shift();
    if (numbered && tokens.length && /^(edge|level)$/i.test(tokens[0]!)) tokens.shift();
    lines.push({
      irq: m[1]!,
      perCpu,
      total: perCpu.reduce((a, b) => a + b, 0),
      chip,
      name: tokens.join(' '),
    });
  }
  return { cpus, lines, unparsed };
}

/** The IOMMU vector a line belongs to, or null. */
export function classifyIommuIrq(line: InterruptLine): IommuInterrupt | null {
  const n = line.name;
  let m = /^dmar(\d+)(?:-(prq|perf))?$/.exec(n);
  if (m) {
    const kind: IommuIrqKind = m[2] === 'prq' ? 'page-request' : m[2] === 'perf' ? 'perf' : 'fault';
    return { ...line, unit: `dmar${m[1]}`, kind };
  }
  m = /^AMD-Vi(\d*)(?:-(Evt|PPR|GA))?$/.exec(n);
  if (m) {
    const kind: IommuIrqKind =
      m[2] === 'PPR' ? 'page-request' : m[2] === 'GA' ? 'guest-log' : 'event-log';
    return { ...line, unit: `ivhd${m[1] || '0'}`, kind };
  }
  m = /^arm-smmu-v3-(evtq|priq|gerror|combined-irq)$/.exec(n);
  if (m) {
    const kinds: Record<string, IommuIrqKind> = {
      evtq: 'event-log',
      priq: 'page-request',
      gerror: 'global-error',
      'combined-irq': 'combined',
    };
    return { ...line, unit: 'arm-smmu-v3', kind: kinds[m[1]!]! };
  }
  return null;
}

export function iommuInterrupts(text: string): IommuInterrupt[] {
  return parseInterrupts(text)
    .lines.map(classifyIommuIrq)
    .filter((x): x is IommuInterrupt => x !== null);
}

export interface InterruptRate {
  irq: string;
  unit: string;
  kind: IommuIrqKind;
  total: number;
  /** Interrupts per second since the previous sample (0 on the first). */
  perSecond: number;
}

/** Per-vector rates between two samples taken `seconds` apart (a vanished vector is dropped). */
export function interruptRates(
  prev: IommuInterrupt[] | null,
  next: IommuInterrupt[],
  seconds: number,
): InterruptRate[] {
  const before = new Map((prev ?? []).map((l) => [`${l.irq}/${l.name}`, l.total]));
  return next.map((l) => {
    const was = before.get(`${l.irq}/${l.name}`);
    const delta = was === undefined || l.total < was ? 0 : l.total - was;
    return {
      irq: l.irq,
      unit: l.unit,
      kind: l.kind,
      total: l.total,
      perSecond: seconds > 0 ? delta / seconds : 0,
    };
  });
}
