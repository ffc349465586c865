// `iommuscope serve` (the real CLI, core and WebSocket) with the TypeScript
// fake of the fault queue contract (test/shared/fake-fault-queue.ts) in
// place of the native addon. The UI tests use it when the built addon does
// not speak the group-identity contract yet, so the renderer is tested
// against exactly the contract either way.
// A TS module compiles to CommonJS with __esModule set: this namespace is the exports object itself.
import * as load from '../../main/node/native/load';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { main } from '../../main/node/cli/main';

const addon = fakeSimAddon();
(load as unknown as { loadAddon: () => unknown }).loadAddon = () => addon;

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
