// Capabilities of the capture helper, by raw capget/capset syscalls (no
// libcap). At start it keeps only the ones a source needs, out of those it
// was given; once every source is open it drops all of them.
#pragma once
#include <stdint.h>
#include <string>

namespace capture {

// Numbers from linux/capability.h.
constexpr int kCapDacReadSearch = 2;
constexpr int kCapSysAdmin = 21;
constexpr int kCapSyslog = 34;
constexpr int kCapPerfmon = 38;

struct CapState {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

bool GetCaps(CapState* out);
bool HasCap(const CapState& s, int cap);
// Keeps `wanted` (intersected with what is permitted), clears inheritable
// and ambient, sets no_new_privs. Returns an error text or "".
std::string KeepOnly(uint64_t wanted, CapState* now);
// Drops every capability.
std::string DropAll();
// "cap_syslog,cap_perfmon"
std::string CapNames(uint64_t mask);

}  // namespace capture
