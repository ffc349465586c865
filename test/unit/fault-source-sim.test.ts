// The shared fault-path cases against the simulator (the VM runs the same
// cases against the kernel's mock device: test/vm/fault-source-mock.test.ts).
import { test } from 'node:test';
import { faultSourceCases } from '../shared/fault-source-cases';
import { SimSource } from '../../main/node/sources/sim-source';
import { addonSkipReason, tryLoadAddon } from './addon-available';

const skip = addonSkipReason();

for (const c of faultSourceCases) {
  test(`sim: ${c.name}`, { skip }, async () => {
    const addon = tryLoadAddon()!;
    await c.run(() => new SimSource(addon, { flushIntervalMs: 5 }));
  });
}
