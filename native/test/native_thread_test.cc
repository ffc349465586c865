// EnterNativeThread (native/src/native_thread.cc): a thread the addon starts
// gets its name and the kernel's default PKRU, whatever PKRU the thread that
// started it had (in Node, V8's). Prints "ok - step" / "not ok - step: why",
// then "PASS: 0 failed" or "FAIL: N failed" (exit 1). Without protection keys
// (no PKU, or the kernel did not enable it) it checks that nothing is touched
// and says so: the test VM's CPU has them, most CI hosts do not.
#include <pthread.h>
#include <stdio.h>

#include <string>
#include <thread>

#include "native_thread.h"

namespace {
int failures = 0;

void Check(bool ok, const std::string& step, const std::string& why) {
  if (ok) {
    printf("ok - %s\n", step.c_str());
  } else {
    printf("not ok - %s: %s\n", step.c_str(), why.c_str());
    failures++;
  }
}

std::string Hex(long long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%#llx", v);
  return buf;
}

// The PKRU and name a thread started now sees, with or without EnterNativeThread.
struct Seen {
  long long pkru;
  std::string name;
};

Seen StartThread(bool enter) {
  Seen seen{};
  std::thread t([&] {
    if (enter) EnterNativeThread("iommuscope-tst");
    seen.pkru = CurrentPkru();
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    seen.name = name;
  });
  t.join();
  return seen;
}

void WritePkru(unsigned pkru) {
  asm volatile(".byte 0x0f, 0x01, 0xef" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}
}  // namespace

int main() {
  constexpr long long kDefault = 0x55555554;  // the kernel's init_pkru_value
  constexpr unsigned kV8Like = 0x55555558;    // key 1 write-disabled, as Node's threads have it
  const long long initial = CurrentPkru();
  if (initial < 0) {
    printf("# no protection keys here (CPU without PKU or kernel without OSPKE)\n");
    const Seen s = StartThread(true);
    Check(s.pkru == -1, "without protection keys, a native thread's PKRU is not read or written",
          "CurrentPkru() = " + Hex(s.pkru));
    Check(s.name == "iommuscope-tst", "a native thread is named", "name '" + s.name + "'");
  } else {
    Check(initial == kDefault, "a new process starts with the kernel's default PKRU",
          "PKRU " + Hex(initial));
    WritePkru(kV8Like);
    Check(CurrentPkru() == kV8Like, "the starting thread takes a V8-like PKRU",
          "PKRU " + Hex(CurrentPkru()));
    const Seen plain = StartThread(false);
    Check(plain.pkru == kV8Like, "a thread started without EnterNativeThread inherits it",
          "PKRU " + Hex(plain.pkru));
    const Seen native = StartThread(true);
    Check(native.pkru == kDefault, "EnterNativeThread gives the kernel's default PKRU back",
          "PKRU " + Hex(native.pkru));
    Check(native.name == "iommuscope-tst", "and names the thread", "name '" + native.name + "'");
    Check(CurrentPkru() == kV8Like, "the starting thread keeps its own PKRU",
          "PKRU " + Hex(CurrentPkru()));
  }
  printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
