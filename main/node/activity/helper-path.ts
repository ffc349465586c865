// Where the capture helper lives: $IOMMUSCOPE_CAPTURE, the packaged
// resources folder, or the build output of scripts/build-capture.mjs.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export function captureHelperCandidates(): string[] {
  const out: string[] = [];
  if (process.env.IOMMUSCOPE_CAPTURE) out.push(process.env.IOMMUSCOPE_CAPTURE);
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources) out.push(path.join(resources, 'iommuscope-capture'));
  // dist/main/node/activity -> repo root
  out.push(
    path.resolve(
      __dirname,
      '..',
      '..',
      '..',
      '..',
      'native',
      'build',
      'capture',
      'iommuscope-capture',
    ),
  );
  return out;
}

/** The first executable candidate, or null. */
export function findCaptureHelper(): string | null {
  for (const p of captureHelperCandidates()) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}
