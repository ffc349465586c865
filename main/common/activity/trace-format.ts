// tracefs event `format` files, parsed at run time: field offsets and sizes
// differ between kernels (6.12's cache_tag_flush_range has a `pages` field
// 7.3 dropped), so nothing here assumes a layout. decodeTraceRecord reads
// one raw record (the PERF_SAMPLE_RAW payload) by those offsets.

export interface TraceField {
  name: string;
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** __data_loc: u32 (len << 16 | offset from record start); __rel_loc: offset from the field's end. */
  loc: 'data' | 'rel' | null;
  /** char foo[16]: a fixed array. */
  arrayLength: number | null;
}

export interface TraceFormat {
  system: string;
  name: string;
  id: number;
  fields: TraceField[];
  printFmt: string;
}

export class TraceFormatError extends Error {}

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:([01]);/;

export function parseTraceFormat(system: string, text: string): TraceFormat {
  const name = /^name: (\S+)$/m.exec(text)?.[1];
  const id = /^ID: (\d+)$/m.exec(text)?.[1];
  if (!name || !id) throw new TraceFormatError(`${system} format: no name/ID lines`);
  const fields: TraceField[] = [];
  for (const line of text.split('\n')) {
    const m = FIELD.exec(line);
    if (!m) continue;
    const decl = m[1]!.trim();
    const arr = /^(.*?)\s*(\w+)\[(\d*)\]$/.exec(decl);
    let type: string;
    let fname: string;
    let arrayLength: number | null = null;
    if (arr && !/^__(data|rel)_loc/.test(decl)) {
      type = arr[1]!;
      fname = arr[2]!;
      arrayLength = arr[3] ? Number(arr[3]) : null;
    } else {
      const sp = decl.lastIndexOf(' ');
      type = decl.slice(0, sp);
      fname = decl.slice(sp + 1);
    }
    const loc = type.startsWith('__data_loc')
      ? 'data'
      : type.startsWith('__rel_loc')
        ? 'rel'
        : null;
    fields.push({
      name: fname,
      type,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === '1',
      loc,
      arrayLength,
    });
  }
  if (!fields.some((f) => f.name === 'common_type'))
    throw new TraceFormatError(`${system}:${name} format: no common_type field`);
  const printFmt = /^print fmt: (.*)$/m.exec(text)?.[1] ?? '';
  return { system, name, id: Number(id), fields, printFmt };
}

export type TraceValue = number | bigint | string;

const utf8 = new TextDecoder();

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  const stop = Math.min(bytes.length, start + length);
  while (end < stop && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(start, end));
}

/**
 * Decodes one raw trace record; throws TraceFormatError when the record is
 * shorter than the format says or a dynamic string points outside it.
 */
export function decodeTraceRecord(
  format: TraceFormat,
  bytes: Uint8Array,
): Record<string, TraceValue> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, TraceValue> = {};
  for (const f of format.fields) {
    if (f.offset + f.size > bytes.length)
      throw new TraceFormatError(
        `${format.name}: record of ${bytes.length} bytes ends inside field ${f.name}`,
      );
    if (f.loc) {
      const v = view.getUint32(f.offset, true);
      const len = v >>> 16;
      const off = (v & 0xffff) + (f.loc === 'rel' ? f.offset + 4 : 0);
      if (off + len > bytes.length)
        throw new TraceFormatError(`${format.name}: string ${f.name} points outside the record`);
      out[f.name] = cString(bytes, off, len);
      continue;
    }
    if (f.arrayLength !== null && /char/.test(f.type)) {
      out[f.name] = cString(bytes, f.offset, f.size);
      continue;
    }
    switch (f.size) {
      case 1:
        out[f.name] = f.signed ? view.getInt8(f.offset) : view.getUint8(f.offset);
        break;
      case 2:
        out[f.name] = f.signed ? view.getInt16(f.offset, true) : view.getUint16(f.offset, true);
        break;
      case 4:
        out[f.name] = f.signed ? view.getInt32(f.offset, true) : view.getUint32(f.offset, true);
        break;
      case 8:
        out[f.name] = f.signed
          ? view.getBigInt64(f.offset, true)
          : view.getBigUint64(f.offset, true);
        break;
      default:
        out[f.name] = Array.from(bytes.subarray(f.offset, f.offset + f.size), (b) =>
          b.toString(16).padStart(2, '0'),
        ).join('');
    }
  }
  return out;
}
