// The one positional argument of `replay` and `export`: the recording to read.
import { UsageError } from './args';

export function recordingFileArg(positionals: string[]): string {
  if (positionals.length === 1) return positionals[0]!;
  throw new UsageError(
    positionals.length
      ? `one recording file, not ${positionals.length}`
      : 'which recording? give FILE',
  );
}
