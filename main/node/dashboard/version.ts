import { MiB, readBoundedText } from '../bounded-read';
import path from 'node:path';

/** The package version (package.json four levels above dist/main/node/dashboard). */
export function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '..', '..', '..', '..', 'package.json');
    return (JSON.parse(readBoundedText(file, 1 * MiB, 'package.json')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}
