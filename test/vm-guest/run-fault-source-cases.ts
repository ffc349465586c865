// Runs inside the VM (-i none): the shared fault-path cases against the
// kernel's iommufd selftest mock device. One line per case:
//   CASE ok <name> | CASE fail <name>: <message> | CASE skip <name>: <why>
// test/vm/fault-source-mock.test.ts boots the VM and checks these lines.
import { faultSourceCases } from '../shared/fault-source-cases';
import { MockSource } from '../../main/node/sources/mock-source';
import { loadAddon } from '../../main/node/native/load';

async function main(): Promise<number> {
  const addon = loadAddon();
  let failed = 0;
  for (const c of faultSourceCases) {
    if (c.simOnly) {
      console.log(`CASE skip ${c.name}: ${c.simOnly}`);
      continue;
    }
    try {
      await c.run(() => MockSource.open(addon, { flushIntervalMs: 5 }));
      console.log(`CASE ok ${c.name}`);
    } catch (err) {
      failed++;
      const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.log(`CASE fail ${c.name}: ${msg.replace(/\n/g, ' | ')}`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`CASE fail setup: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
