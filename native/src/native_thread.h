// Setup for the threads the addon starts (queue readers, the injector): they
// serve devices waiting on answers, so nothing the host process did to its own
// threads should slow them.
#pragma once

// Names the calling thread (as ps/top/perf show it) and gives it the kernel's
// default protection-key rights (PKRU), which its own threads run with.
//
// Why: threads inherit PKRU from the thread that started them, and in Node that
// is V8's (it keeps a key for its JIT code). A PKRU different from the kernel
// threads' makes every switch to and from idle or a kworker rewrite the
// register; cheap on hardware, but QEMU's TCG flushes its whole TLB on each such
// write, and in the test VM that doubled the time from a page request to its
// read. The default denies keys 1-15 entirely, so our threads also lose V8's
// read access to its code pages, which they never touch.
void EnterNativeThread(const char* name);

// The calling thread's PKRU, or -1 where the CPU or kernel has no protection keys.
long long CurrentPkru();
