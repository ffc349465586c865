// The shared fault-path cases against the simulator (the VM runs the same
// cases against the kernel's mock device: test/vm/fault-source-mock.test.ts),
// and against the TypeScript fake of the queue contract, which the layers
// above the addon are tested on (so the fake must pass them too).
import { test } from 'node:test';
import { faultSourceCases } from '../shared/fault-source-cases';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { SimSource } from '../../main/node/sources/sim-source';
import { addonSkipReason, tryLoadAddon } from './addon-available';

const skip = addonSkipReason();

for (const c of faultSourceCases) {
  test(`sim: ${c.name}`, { skip }, async () => {
    const addon = tryLoadAddon()!;
    await c.run(() => new SimSource(addon, { flushIntervalMs: 5 }));
  });
  test(`fake sim (TypeScript contract fake): ${c.name}`, async () => {
    const addon = fakeSimAddon();
    await c.run(() => new SimSource(addon, { flushIntervalMs: 5 }));
  });
}
