import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package version (package.json four levels above dist/main/node/dashboard). */
export function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '..', '..', '..', '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
