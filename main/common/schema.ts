// A small run-time schema library: each schema both validates untrusted
// input (IPC messages, WebSocket frames) and gives its static type through
// Infer<>. Limits (lengths, ranges) are part of every schema so an oversized
// or hostile message is refused before anything acts on it.

export type Schema<T> = {
  readonly describe: string;
  /** Returns an error path+reason, or undefined when `value` is valid. */
  check(value: unknown, path: string): string | undefined;
  /** Phantom field carrying the static type. */
  readonly _type?: T;
};

export type Infer<S> = S extends Schema<infer T> ? T : never;

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** Throws SchemaError naming the first offending field. */
export function validate<T>(schema: Schema<T>, value: unknown, what: string): T {
  const problem = schema.check(value, what);
  if (problem !== undefined) throw new SchemaError(problem);
  return value as T;
}

function make<T>(describe: string, check: Schema<T>['check']): Schema<T> {
  return { describe, check };
}

export function number(opts: { int?: boolean; min?: number; max?: number } = {}): Schema<number> {
  const { int = false, min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = opts;
  return make(int ? 'integer' : 'number', (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${p}: expected a finite number`;
    if (int && !Number.isInteger(v)) return `${p}: expected an integer`;
    if (v < min || v > max) return `${p}: ${v} is outside ${min}..${max}`;
    return undefined;
  });
}

export const u32 = number({ int: true, min: 0, max: 0xffffffff });

export function string(opts: { max?: number; pattern?: RegExp } = {}): Schema<string> {
  const { max = 4096, pattern } = opts;
  return make('string', (v, p) => {
    if (typeof v !== 'string') return `${p}: expected a string`;
    if (v.length > max) return `${p}: longer than ${max} characters`;
    if (pattern && !pattern.test(v)) return `${p}: ${JSON.stringify(v)} does not match ${pattern}`;
    return undefined;
  });
}

export const boolean: Schema<boolean> = make('boolean', (v, p) =>
  typeof v === 'boolean' ? undefined : `${p}: expected true or false`,
);

export function literal<const T extends string | number | boolean | null>(
  ...values: T[]
): Schema<T> {
  return make(values.map((x) => JSON.stringify(x)).join('|'), (v, p) =>
    values.includes(v as T)
      ? undefined
      : `${p}: expected ${values.map((x) => JSON.stringify(x)).join(' or ')}`,
  );
}

export function array<T>(item: Schema<T>, opts: { max: number }): Schema<T[]> {
  return make(`${item.describe}[]`, (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected an array`;
    if (v.length > opts.max) return `${p}: more than ${opts.max} items`;
    for (let i = 0; i < v.length; i++) {
      const problem = item.check(v[i], `${p}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  });
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends Schema<infer T> ? (undefined extends T ? K : never) : never;
}[keyof S];
type ObjectOf<S extends Shape> = {
  [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]>;
} & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** Unknown keys are refused: a misspelt field is an error, not silently ignored. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return make('object', (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected an object`;
    const rec = v as Record<string, unknown>;
    for (const key of Object.keys(rec)) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) return `${p}.${key}: unknown field`;
    }
    for (const [key, schema] of Object.entries(shape)) {
      const problem = schema.check(rec[key], `${p}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return make(`${inner.describe}?`, (v, p) => (v === undefined ? undefined : inner.check(v, p)));
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return make(`${inner.describe}|null`, (v, p) => (v === null ? undefined : inner.check(v, p)));
}

/** Tagged union on `key`; the tag picks the schema, so errors stay precise. */
export function tagged<K extends string, M extends Record<string, Schema<object>>>(
  key: K,
  variants: M,
): Schema<{ [T in keyof M]: Infer<M[T]> }[keyof M]> {
  return make(`tagged(${key})`, (v, p) => {
    if (typeof v !== 'object' || v === null) return `${p}: expected an object`;
    const tag = (v as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(variants, tag)) {
      return `${p}.${key}: expected one of ${Object.keys(variants).join(', ')}`;
    }
    return variants[tag]!.check(v, p);
  });
}

/** A value whose structure is trusted because it comes from our own core. */
export function trusted<T>(describe: string): Schema<T> {
  return make(describe, (v, p) =>
    typeof v === 'object' && v !== null ? undefined : `${p}: expected ${describe}`,
  );
}
