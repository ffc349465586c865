// Natively paced fault injection: into the simulator (generated groups) or
// into the kernel selftest mock device (TRIGGER_IOPF, one-page groups).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class SimChannel;

struct InjectSpec {
  uint64_t count = 0;  // page requests
  double rate = 0;     // per second, 0 = as fast as possible
  uint32_t pasid_min = 0, pasid_max = 0;
  uint32_t devices = 1;
  uint32_t group_pages = 1;
  uint32_t perm = 0;
  uint64_t addr = 0;
  // Bench-only: keep each request's trigger time in a ring of this many slots (0: off).
  uint32_t capture_times = 0;
};

struct InjectProgress {
  uint64_t injected = 0, failed = 0;
  bool done = true;
  std::string last_error;
};

class Injector {
 public:
  // sim != nullptr: simulator; else TRIGGER_IOPF on iommufd for mock_dev.
  Injector(SimChannel* sim, int iommufd, uint32_t mock_dev);
  ~Injector();
  int Start(const InjectSpec& spec);  // -EBUSY while one runs
  void Stop();
  InjectProgress Progress();
  // The capture ring of the last injection (InjectSpec.capture_times): slot
  // ((addr - spec.addr) / 4096) % slots holds the CLOCK_MONOTONIC ns taken
  // just before that request was triggered, 0 when none was yet.
  std::vector<double> Times() const;

 private:
  void Run(InjectSpec spec);
  bool PaceUntil(uint64_t due_ns);
  void Fail(uint64_t n, const std::string& why);

  SimChannel* sim_;
  int iommufd_;
  uint32_t mock_dev_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{true};
  std::atomic<uint64_t> injected_{0}, failed_{0};
  std::mutex mu_;
  std::string last_error_;
  uint32_t next_grpid_ = 0;
  std::unique_ptr<std::atomic<double>[]> times_;  // relaxed: read while the injector writes
  uint32_t time_slots_ = 0;
};
