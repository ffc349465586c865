// The addon's threads run with the kernel's default PKRU on the kernels' own
// CPU model (the test VM's CPU has protection keys; most CI hosts do not):
// native/test/native_thread_test.cc, built here, run in the guest on 6.12 and 7.3.
import assert from 'node:assert/strict';
import { buildNativeProgram } from '../shared/native-programs';
import { kernelMatrix } from './kernel-matrix';
import { repoScratch } from './vm';

kernelMatrix('VM -i none: a native thread gets the default PKRU whatever its starter had', (k) => {
  // kernelMatrix runs the guest over the checkout (its /tmp is its own).
  const scratch = repoScratch('native-thread-');
  try {
    const bin = buildNativeProgram('native_thread_test', scratch.dir);
    const r = k.run('none', [bin]);
    assert.equal(r.status, 0, r.output.slice(-3000));
    assert.match(r.output, /^ok - EnterNativeThread gives the kernel's default PKRU back$/m);
    assert.match(r.output, /^ok - a thread started without EnterNativeThread inherits it$/m);
    assert.match(r.output, /^PASS: 0 failed$/m);
  } finally {
    scratch.dispose();
  }
});
