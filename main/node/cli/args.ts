// A tiny strict flag parser: declared flags only, `--flag value` or
// `--flag=value`, booleans take no value, no positional arguments unless
// declared. Anything else is a UsageError (the CLI exits 2).

import { didYouMean } from '../../common/suggest';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagSpec = Record<
  string,
  {
    type: 'string' | 'boolean';
    help: string;
    value?: string;
    /** boolean only: a one-letter alias, e.g. 'q' for -q */ short?: string;
  }
>;

export type ParsedFlags<S extends FlagSpec> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string;
};

export function parseFlags<S extends FlagSpec>(
  argv: string[],
  spec: S,
): { flags: ParsedFlags<S>; positionals: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) {
      const alias = Object.entries(spec).find(([, d]) => d.short && `-${d.short}` === arg);
      if (!alias || alias[1].type !== 'boolean')
        throw new UsageError(`unknown option '${arg}' (options are --long only)`);
      if (Object.prototype.hasOwnProperty.call(flags, alias[0]))
        throw new UsageError(`option '--${alias[0]}' given twice`);
      flags[alias[0]] = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const def = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (!def)
      throw new UsageError(
        `unknown option '--${name}'${didYouMean(name, Object.keys(spec), '--')}`,
      );
    if (Object.prototype.hasOwnProperty.call(flags, name))
      throw new UsageError(`option '--${name}' given twice`);
    if (def.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError(
          `option '--${name}' needs a value${def.value ? ` (${def.value})` : ''}`,
        );
      }
      i++;
    }
    if (value === '') throw new UsageError(`option '--${name}' has an empty value`);
    flags[name] = value;
  }
  return { flags: flags as ParsedFlags<S>, positionals };
}

/** Help text lines for a flag table. */
export function flagHelp(spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([name, d]) => [
    `${d.short ? `-${d.short}, ` : ''}--${name}${d.value ? ` ${d.value}` : ''}`,
    d.help,
  ]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([a, b]) => `  ${a!.padEnd(width)}  ${b}`).join('\n');
}

/** Strict non-negative number flag. */
export function numberFlag(
  name: string,
  text: string,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const ok = opts.integer ? /^[0-9]+$/.test(text) : /^[0-9]+(\.[0-9]+)?$/.test(text);
  const v = Number(text);
  if (!ok || (opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
    const range = `${opts.min ?? 0}..${opts.max ?? '∞'}`;
    throw new UsageError(
      `--${name} '${text}' must be ${opts.integer ? 'an integer' : 'a number'} in ${range}`,
    );
  }
  return v;
}
