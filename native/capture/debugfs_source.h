// Intel IOMMU debugfs (/sys/kernel/debug/iommu/intel). Only the mount point
// is root-only (0700); the files below it are 0444 in 0755 folders. So the
// helper opens the folder itself (O_PATH) while it holds cap_dac_read_search,
// keeps that descriptor after dropping every capability, and later opens
// files relative to it: the unit files every interval, and each watched
// device's domain_translation_struct(s). Each read is bounded (kMaxFile);
// a file that cannot be read is reported by name and errno, never silently.
#pragma once
#include <string>
#include <vector>

#include "trace_source.h"

namespace capture {

class DebugfsSource {
 public:
  static constexpr size_t kMaxFile = 512u << 10;
  static constexpr size_t kMaxDevices = 64;
  static constexpr int kMaxPasidDirs = 64;

  ~DebugfsSource();
  // Needs cap_dac_read_search (or root): opens `dir` and probes iommu_regset.
  SourceReport Open(const std::string& dir);
  bool ok() const { return dirFd_ >= 0; }
  // One round: iommu_regset, invalidation_queue, dmar_perf_latency, every
  // watched device's page tables, then dmar_translation_struct (the round's
  // end for the app): one kDebugfs frame each.
  bool ReadAll();
  // Adds `bdf` (ssss:bb:dd.f) to the watched devices and reads it now
  // (readNow). A bad address or a full list is reported in a kDebugfs error frame.
  bool Watch(const std::string& bdf, bool readNow = true);

 private:
  bool ReadDevice(const std::string& bdf);
  bool SendFile(const std::string& rel);
  int dirFd_ = -1;
  std::vector<std::string> devices_;
};

// ssss:bb:dd.f in lower-case hex, as the folder names are.
bool IsPciAddress(const std::string& s);

}  // namespace capture
