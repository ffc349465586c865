#include "errno_text.h"

#include <errno.h>
#include <string.h>

const char* ErrnoName(int err) {
  if (err == 524) return "ENOTSUPP";  // kernel-internal, can leak from some ioctls
  const char* name = strerrorname_np(err);  // glibc 2.32+
  return name ? name : "EUNKNOWN";
}

std::string ErrnoText(int err) {
  char buf[128];
  const char* text = strerror_r(err, buf, sizeof buf);  // GNU variant
  return std::string(ErrnoName(err)) + " (" + text + ")";
}
