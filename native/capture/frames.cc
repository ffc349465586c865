#include "frames.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

namespace capture {

static bool WriteAll(const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool WriteFrame(FrameType type, const void* payload, uint32_t length) {
  if (length > kMaxFrame) return false;
  uint8_t header[8];
  header[0] = length & 0xff;
  header[1] = (length >> 8) & 0xff;
  header[2] = (length >> 16) & 0xff;
  header[3] = (length >> 24) & 0xff;
  header[4] = type & 0xff;
  header[5] = (type >> 8) & 0xff;
  header[6] = header[7] = 0;
  return WriteAll(header, sizeof header) && WriteAll(static_cast<const uint8_t*>(payload), length);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace capture
