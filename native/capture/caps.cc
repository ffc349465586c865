#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace capture {

static bool CapGet(__user_cap_data_struct data[2]) {
  __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &hdr, data) == 0;
}

bool GetCaps(CapState* out) {
  __user_cap_data_struct d[2] = {};
  if (!CapGet(d)) return false;
  out->effective = (uint64_t)d[1].effective << 32 | d[0].effective;
  out->permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
  out->inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
  return true;
}

bool HasCap(const CapState& s, int cap) { return (s.effective >> cap) & 1; }

static std::string CapSet(uint64_t eff, uint64_t perm) {
  __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  d[0].effective = (uint32_t)eff;
  d[1].effective = (uint32_t)(eff >> 32);
  d[0].permitted = (uint32_t)perm;
  d[1].permitted = (uint32_t)(perm >> 32);
  if (syscall(SYS_capset, &hdr, d) != 0) return std::string("capset: ") + strerror(errno);
  return "";
}

std::string KeepOnly(uint64_t wanted, CapState* now) {
  CapState cur;
  if (!GetCaps(&cur)) return std::string("capget: ") + strerror(errno);
  uint64_t keep = cur.permitted & wanted;
  // Ambient first: it must be a subset of permitted and inheritable.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  std::string err = CapSet(keep, keep);
  if (!err.empty()) return err;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("no_new_privs: ") + strerror(errno);
  if (!GetCaps(now)) return std::string("capget: ") + strerror(errno);
  return "";
}

std::string DropAll() { return CapSet(0, 0); }

std::string CapNames(uint64_t mask) {
  static const struct {
    int cap;
    const char* name;
  } kNames[] = {{kCapDacReadSearch, "cap_dac_read_search"},
                {kCapSysAdmin, "cap_sys_admin"},
                {kCapSyslog, "cap_syslog"},
                {kCapPerfmon, "cap_perfmon"}};
  std::string out;
  for (auto& n : kNames) {
    if ((mask >> n.cap) & 1) {
      if (!out.empty()) out += ",";
      out += n.name;
    }
  }
  return out;
}

}  // namespace capture
