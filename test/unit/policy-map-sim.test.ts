// 'map' on the simulator: the simulator has no IOAS, so a policy that maps
// is refused up front with a message naming the cause and the fix (it used
// to be accepted, then rejected by the addon with "pass both to
// createFaultQueue"). The same policy is fine for mock and iommufd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, parsePolicyRules, policyProblemFor } from '../../main/common/policy';
import { GrammarError } from '../../main/common/grammar-error';
import { FaultSession } from '../../main/node/session/fault-session';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { addonSkipReason, tryLoadAddon } from './addon-available';

const mapRule = parsePolicyRules({
  rules: [{ match: 'dev == 1', action: 'map' }],
  default: 'success',
});

test('policyProblemFor: map is refused for sim only, with the cause and the fix', () => {
  for (const spec of [parsePolicy('map'), mapRule]) {
    const why = policyProblemFor(spec, 'sim');
    assert.match(why ?? '', /simulator has none/);
    assert.match(why ?? '', /--source mock or iommufd/);
    assert.equal(policyProblemFor(spec, 'mock'), null);
    assert.equal(policyProblemFor(spec, 'iommufd'), null);
  }
  assert.equal(policyProblemFor(parsePolicy('success'), 'sim'), null, 'no map: fine on sim');
  assert.equal(policyProblemFor(parsePolicy('delay=1ms'), 'sim'), null);
});

const addons = [
  { name: 'native sim', skip: addonSkipReason(), get: () => tryLoadAddon()! },
  { name: 'fake sim', skip: undefined, get: fakeSimAddon },
];

for (const a of addons) {
  test(
    `${a.name}: opening with map fails clearly; setPolicy(map) on an open session fails and keeps the old policy`,
    { skip: a.skip },
    async () => {
      const addon = a.get();
      assert.throws(
        () => FaultSession.open({ source: 'sim', addon, policy: parsePolicy('map') }),
        (err: unknown) =>
          err instanceof GrammarError &&
          /simulator has none/.test(err.message) &&
          !/createFaultQueue/.test(err.message),
      );
      const s = FaultSession.open({ source: 'sim', addon, policy: parsePolicy('success') });
      try {
        assert.throws(() => s.setPolicy(mapRule), /simulator has none/);
        s.setPolicy(parsePolicy('invalid')); // a policy without map is still accepted
      } finally {
        await s.close();
      }
    },
  );
}
