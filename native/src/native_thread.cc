#include "native_thread.h"

#include <pthread.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace {
#if defined(__x86_64__)
// The kernel's init_pkru_value: key 0 read/write, keys 1-15 access-disabled.
constexpr unsigned kDefaultPkru = 0x55555554;

bool OsUsesProtectionKeys() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return ecx & (1u << 4);  // OSPKE: the OS enabled PKU, so RDPKRU/WRPKRU work
}

// Spelled as bytes: the addon builds without -mpku.
unsigned ReadPkru() {
  unsigned eax, edx;
  asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
  return eax;
}

void WritePkru(unsigned pkru) {
  asm volatile(".byte 0x0f, 0x01, 0xef" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}
#endif
}  // namespace

void EnterNativeThread(const char* name) {
  pthread_setname_np(pthread_self(), name);
#if defined(__x86_64__)
  if (OsUsesProtectionKeys() && ReadPkru() != kDefaultPkru) WritePkru(kDefaultPkru);
#endif
}

long long CurrentPkru() {
#if defined(__x86_64__)
  if (OsUsesProtectionKeys()) return ReadPkru();
#endif
  return -1;
}
