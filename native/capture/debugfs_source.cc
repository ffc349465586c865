#include "debugfs_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "frames.h"

namespace capture {

namespace {

// dmar_translation_struct (the PASID tables) goes last, after the watched
// devices' page tables: the app takes it as the end of a round.
const char* kUnitFiles[] = {"iommu_regset", "invalidation_queue", "dmar_perf_latency"};
const char kPasidTables[] = "dmar_translation_struct";

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Frame payload: "NAME\n" then the text; "NAME\ttruncated\n" when cut at
// kMaxFile; "NAME\terror ERRNO\n" and a detail when it could not be read.
bool SendError(const std::string& rel, int err, const std::string& detail) {
  return WriteFrame(kDebugfs, rel + "\terror " + strerrorname_np(err) + "\n" + detail);
}

}  // namespace

bool IsPciAddress(const std::string& s) {
  if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!IsHex(s[i])) return false;
  return s[11] >= '0' && s[11] <= '7';
}

DebugfsSource::~DebugfsSource() {
  if (dirFd_ >= 0) close(dirFd_);
}

SourceReport DebugfsSource::Open(const std::string& dir) {
  SourceReport r;
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    r.detail = dir + ": " + strerrorname_np(e);
    if (e == EACCES) r.needCap = "cap_dac_read_search";
    else if (e == ENOENT) r.detail += " (debugfs not mounted at /sys/kernel/debug, or not an Intel IOMMU)";
    return r;
  }
  // The folder may open while its files do not (lockdown): probe one.
  int probe = openat(fd, "iommu_regset", O_RDONLY | O_CLOEXEC);
  if (probe < 0) {
    int e = errno;
    r.detail = dir + "/iommu_regset: " + strerrorname_np(e);
    if (e == EACCES) r.needCap = "cap_dac_read_search";
    else if (e == EPERM) r.detail += " (kernel lockdown? see /sys/kernel/security/lockdown)";
    close(fd);
    return r;
  }
  close(probe);
  dirFd_ = fd;
  r.ok = true;
  r.detail = dir;
  return r;
}

bool DebugfsSource::SendFile(const std::string& rel) {
  int fd = openat(dirFd_, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    return SendError(rel, e, e == ENOENT ? "not on this kernel, or the device has no IOMMU folder" : "");
  }
  std::string text;
  char buf[16384];
  bool truncated = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return SendError(rel, e, "read failed after " + std::to_string(text.size()) + " bytes");
    }
    if (n == 0) break;
    size_t room = kMaxFile - text.size();
    if (static_cast<size_t>(n) > room) {
      text.append(buf, room);
      truncated = true;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return WriteFrame(kDebugfs, rel + (truncated ? "\ttruncated\n" : "\n") + text);
}

bool DebugfsSource::ReadDevice(const std::string& bdf) {
  if (!SendFile(bdf + "/domain_translation_struct")) return false;
  // Kernels that list PASID attachments give each its own folder <bdf>/<pasid>/.
  int dfd = openat(dirFd_, bdf.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dfd < 0) return true;  // already reported by the read above
  DIR* d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return true;
  }
  std::vector<std::string> pasids;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    bool digits = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (name.empty() || name.size() > 7 || !digits) continue;
    if (static_cast<int>(pasids.size()) < kMaxPasidDirs) pasids.push_back(name);
  }
  closedir(d);
  std::sort(pasids.begin(), pasids.end(),
            [](const std::string& a, const std::string& b) { return std::stoul(a) < std::stoul(b); });
  for (const auto& p : pasids)
    if (!SendFile(bdf + "/" + p + "/domain_translation_struct")) return false;
  return true;
}

bool DebugfsSource::ReadAll() {
  if (dirFd_ < 0) return true;
  for (const char* f : kUnitFiles)
    if (!SendFile(f)) return false;
  for (const auto& d : devices_)
    if (!ReadDevice(d)) return false;
  return SendFile(kPasidTables);
}

bool DebugfsSource::Watch(const std::string& bdf, bool readNow) {
  if (!IsPciAddress(bdf))
    return SendError("watch " + bdf.substr(0, 32), EINVAL, "not a PCI address (ssss:bb:dd.f, lower case)");
  if (dirFd_ < 0) return true;
  if (std::find(devices_.begin(), devices_.end(), bdf) == devices_.end()) {
    if (devices_.size() >= kMaxDevices)
      return SendError("watch " + bdf, ENOSPC, "already watching " + std::to_string(kMaxDevices) + " devices");
    devices_.push_back(bdf);
  }
  return !readNow || ReadDevice(bdf);
}

}  // namespace capture
