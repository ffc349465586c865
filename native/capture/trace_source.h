// IOMMU tracepoints through perf_event_open (PERF_TYPE_TRACEPOINT, one ring
// per CPU shared by all events via PERF_EVENT_IOC_SET_OUTPUT, samples with
// TIME|RAW). Unlike enabling events in tracefs, this changes no global
// tracing state and ends with the process. Needs the event ids and formats
// (tracefs is root-only: cap_dac_read_search) and system-wide perf events
// (cap_perfmon while perf_event_paranoid > -1).
#pragma once
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "trace_counts.h"

namespace capture {

struct SourceReport {
  bool ok = false;
  std::string detail;   // what was opened, or why not
  std::string needCap;  // e.g. "cap_perfmon" when that is what is missing
};

class TraceSource {
 public:
  ~TraceSource();
  // Opens `events` ("system:name") under `tracefs`. Events missing on this
  // kernel are listed in the report; the source is ok when at least one opened.
  SourceReport Open(const std::string& tracefs, const std::vector<std::string>& events,
                    unsigned ringPages);
  // fds to poll for POLLIN (one per CPU ring).
  const std::vector<int>& PollFds() const { return ringFds_; }
  // Copies every complete record out of the rings into kTrace frames.
  bool Drain();
  uint64_t samples() const { return samples_; }
  // Counts of the high-rate events since the last call, as JSON (see trace_counts.h).
  std::string TakeCounts() { return counts_.TakeJson(); }
  // Forward every sample raw instead of counting (for debugging the decoder).
  void set_raw(bool raw) { raw_ = raw; }
  uint64_t lost() const { return lost_; }

 private:
  struct Ring {
    int cpu;
    int fd;
    uint8_t* base;
    size_t dataSize;
  };
  bool DrainRing(Ring& r);
  std::vector<int> eventFds_;
  std::vector<int> ringFds_;
  std::vector<Ring> rings_;
  size_t mapBytes_ = 0;
  std::map<uint16_t, CountedEvent> counted_;
  TraceCounts counts_;
  bool raw_ = false;
  uint64_t samples_ = 0;
  uint64_t lost_ = 0;
};

std::vector<int> OnlineCpus();

}  // namespace capture
