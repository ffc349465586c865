#include "injector.h"

#include <errno.h>
#include <time.h>

#include <vector>

#include "errno_text.h"
#include "fault_core.h"
#include "kernel_ioctls.h"
#include "native_thread.h"
#include "sim_channel.h"

Injector::Injector(SimChannel* sim, int iommufd, uint32_t mock_dev)
    : sim_(sim), iommufd_(iommufd), mock_dev_(mock_dev) {}

Injector::~Injector() { Stop(); }

int Injector::Start(const InjectSpec& spec) {
  if (!done_) return -EBUSY;
  if (thread_.joinable()) thread_.join();
  stop_ = false;
  done_ = false;
  injected_ = 0;
  failed_ = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_.clear();
  }
  time_slots_ = spec.capture_times;
  times_.reset(time_slots_ ? new std::atomic<double>[time_slots_] : nullptr);
  for (uint32_t i = 0; i < time_slots_; i++) times_[i].store(0, std::memory_order_relaxed);
  thread_ = std::thread(&Injector::Run, this, spec);
  return 0;
}

void Injector::Stop() {
  stop_ = true;
  if (sim_) sim_->WakeInjectors();
  if (thread_.joinable()) thread_.join();
}

std::vector<double> Injector::Times() const {
  std::vector<double> out(time_slots_);
  for (uint32_t i = 0; i < time_slots_; i++) out[i] = times_[i].load(std::memory_order_relaxed);
  return out;
}

InjectProgress Injector::Progress() {
  InjectProgress p;
  p.injected = injected_;
  p.failed = failed_;
  p.done = done_;
  std::lock_guard<std::mutex> lock(mu_);
  p.last_error = last_error_;
  return p;
}

void Injector::Fail(uint64_t n, const std::string& why) {
  failed_ += n;
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = why;
}

// Sleep until due_ns in short slices so stopInject() is prompt.
bool Injector::PaceUntil(uint64_t due_ns) {
  for (;;) {
    if (stop_) return false;
    uint64_t now = MonotonicNs();
    if (now >= due_ns) return true;
    uint64_t slice = due_ns - now < 20000000ull ? due_ns - now : 20000000ull;
    struct timespec ts = {time_t(slice / 1000000000ull), long(slice % 1000000000ull)};
    nanosleep(&ts, nullptr);
  }
}

// When request i is due at `rate` per second, saturating (a slow rate times a
// large i does not fit in 64-bit nanoseconds).
static uint64_t DueNs(uint64_t start, uint64_t i, double rate) {
  double due = double(start) + double(i) * (1e9 / rate);
  return due >= 1.8e19 ? UINT64_MAX : uint64_t(due);
}

void Injector::Run(InjectSpec spec) {
  EnterNativeThread("iommuscope-inj");
  // ParseInjectSpec bounds every field (devices, group_pages, pasids, rate).
  const uint64_t start = MonotonicNs();
  const uint32_t span = spec.pasid_max - spec.pasid_min + 1;
  std::vector<uint32_t> dev_grpid(spec.devices, 0);
  uint64_t group = 0;
  for (uint64_t i = 0; i < spec.count && !stop_; group++) {
    if (spec.rate > 0 && !PaceUntil(DueNs(start, i, spec.rate))) break;
    uint32_t pasid = spec.pasid_min + uint32_t(group % span);
    uint64_t addr = spec.addr + i * 4096;
    if (time_slots_) times_[i % time_slots_].store(double(MonotonicNs()), std::memory_order_relaxed);
    if (sim_) {
      uint64_t left = spec.count - i;
      uint32_t pages = left < spec.group_pages ? uint32_t(left) : spec.group_pages;
      uint32_t dev = uint32_t(group % spec.devices);
      int rc = sim_->InjectGroup(dev + 1, pasid, dev_grpid[dev]++, spec.perm, addr, pages, &stop_);
      if (rc == -ECANCELED) break;
      if (rc == -ENODEV) {
        Fail(spec.count - i, "the simulated domain is detached (simDetach): nothing to fault on");
        break;
      }
      injected_ += pages;
      i += pages;
    } else {
      int rc = TriggerIopf(iommufd_, mock_dev_, pasid, next_grpid_++, spec.perm, addr);
      if (rc == 0) injected_++;
      else Fail(1, "ioctl IOMMU_TEST_CMD(TRIGGER_IOPF) failed: " + ErrnoText(-rc));
      i++;
    }
  }
  done_ = true;
}
