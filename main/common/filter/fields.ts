// The filter language's fields, each defined once: its type, whether it can
// be absent, and whether it is known when the group is read (only those can
// be used by a policy, which the native reader evaluates at read time).
//
// Multi-page groups (a PRI group of several page requests) have one value per
// group for every field except `addr`, which has one value per page:
//   dev, pasid, grpid, cookie  from the group's first record (the kernel gives
//                              every page of a group the same ones)
//   perm                       the union of the pages' permissions
//   addr                       every page's address: a test on addr is true
//                              when ANY page satisfies it (`all addr ...`
//                              when every page must)
//   pages                      the number of records in the group
// A comparison on an absent field (pasid without PASID_VALID, by/code/latency
// of a pending group) is false, whatever the operator.

export type FieldType =
  /** Unsigned integer, decimal or 0x hex, at most `max`. */
  | 'uint'
  /** 64-bit page address, one per page. */
  | 'addr'
  /** Permission set written as letters r, w, x, p. */
  | 'perm'
  /** One permission bit: true or false. */
  | 'flag'
  /** One of `values` (stored as its index). */
  | 'enum'
  /** Nanoseconds, written with a unit: ns, us, µs, ms, s. */
  | 'duration';

export interface FieldInfo {
  name: FieldName;
  type: FieldType;
  /** Largest value, for uint and addr. */
  max?: bigint;
  /** Names of an enum's values, in code order. */
  values?: readonly string[];
  /** The permission bit of a flag field. */
  bit?: number;
  /** The field can be absent: the bare name tests presence. */
  optional: boolean;
  /** Known when the group is read (usable in a policy). */
  readTime: boolean;
  doc: string;
}

const U32 = 0xffffffffn;

export const FIELDS = {
  dev: { type: 'uint', max: U32, optional: false, readTime: true, doc: 'iommufd device id' },
  pasid: {
    type: 'uint',
    max: U32,
    optional: true,
    readTime: true,
    doc: 'PASID; absent when the request has no PASID_VALID',
  },
  grpid: { type: 'uint', max: U32, optional: false, readTime: true, doc: 'PRI group index' },
  cookie: { type: 'uint', max: U32, optional: false, readTime: true, doc: "the kernel's cookie" },
  addr: {
    type: 'addr',
    max: (1n << 64n) - 1n,
    optional: false,
    readTime: true,
    doc: 'page address; true when any page matches',
  },
  pages: { type: 'uint', max: U32, optional: false, readTime: true, doc: 'records in the group' },
  perm: {
    type: 'perm',
    max: U32,
    optional: false,
    readTime: true,
    doc: "union of the pages' permissions",
  },
  'perm.r': { type: 'flag', bit: 1, optional: false, readTime: true, doc: 'read requested' },
  'perm.w': { type: 'flag', bit: 2, optional: false, readTime: true, doc: 'write requested' },
  'perm.x': { type: 'flag', bit: 4, optional: false, readTime: true, doc: 'exec requested' },
  'perm.p': { type: 'flag', bit: 8, optional: false, readTime: true, doc: 'privileged' },
  group: {
    type: 'uint',
    max: BigInt(Number.MAX_SAFE_INTEGER),
    optional: false,
    readTime: false,
    doc: "iommuscope's sequence number of the group",
  },
  state: {
    type: 'enum',
    values: ['pending', 'success', 'invalid', 'answered'],
    optional: false,
    readTime: false,
    doc: 'pending, success, invalid, or answered (code lost)',
  },
  by: {
    type: 'enum',
    values: ['user', 'policy', 'drain', 'kernel'],
    optional: true,
    readTime: false,
    doc: 'who answered; absent while pending',
  },
  code: {
    type: 'enum',
    values: ['success', 'invalid'],
    optional: true,
    readTime: false,
    doc: 'the answer: 0 success, 1 invalid; absent while pending',
  },
  latency: {
    type: 'duration',
    optional: true,
    readTime: false,
    doc: 'from read to answer; absent while pending',
  },
} as const satisfies Record<string, Omit<FieldInfo, 'name'>>;

export type FieldName = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

export function fieldInfo(name: FieldName): FieldInfo {
  return { name, ...(FIELDS[name] as Omit<FieldInfo, 'name'>) };
}

export function isFieldName(name: string): name is FieldName {
  return Object.prototype.hasOwnProperty.call(FIELDS, name);
}

/** Fields with one value per group that hold a number (all but addr, perm flags). */
export type ScalarField = Exclude<FieldName, 'addr' | 'perm.r' | 'perm.w' | 'perm.x' | 'perm.p'>;

/** Fields the bare name tests for presence. */
export type OptionalField = 'pasid' | 'by' | 'code' | 'latency';

export const PERM_LETTERS: readonly (readonly [string, number])[] = [
  ['r', 1],
  ['w', 2],
  ['x', 4],
  ['p', 8],
];
