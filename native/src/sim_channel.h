// A user-space copy of the kernel fault FD (drivers/iommu/iommufd/eventq.c):
// simulated PRI devices put whole groups of real 40-byte iommu_hwpt_pgfault
// records on a deliver list, read() hands them out with the lowest free
// cookie (LowestFreeIds: the kernel's rules for cookie 0 included) and
// write() takes answers, with the kernel's errors (FaultChannel).
// Readiness is an eventfd, level-triggered like the kernel's poll: readable
// while anything is undelivered. The device side models PRI credit: a device
// waits while `outstanding` groups are queued or read-and-unanswered, so
// memory stays bounded whatever the injection count.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "fault_channel.h"
#include "lowest_free_ids.h"
#include "uapi.h"

class SimChannel : public FaultChannel {
 public:
  // A typical PRI Outstanding Page Request Allocation.
  static constexpr uint32_t kDefaultOutstanding = 512;

  // outstanding 0 means kDefaultOutstanding (there is no unlimited credit).
  explicit SimChannel(uint32_t outstanding);
  ~SimChannel() override;
  int PollFd() const override { return efd_; }
  ssize_t Read(void* buf, size_t len) override;
  ssize_t Write(const void* buf, size_t len) override;
  void Close() override;

  // Queue one group of `pages` page requests (addr steps one page; the last
  // has LAST_PAGE, every one PASID_VALID when pasid != 0, as the kernel's
  // selftest device reports them). Waits for a PRI credit; returns 0, or
  // -ECANCELED when stopped or closed, -ENODEV while detached.
  int InjectGroup(uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr,
                  uint32_t pages, const std::atomic<bool>* stop);
  // Wake an injector waiting for credits (it re-checks its stop flag).
  void WakeInjectors();
  // Detach the simulated domain as the kernel does on detach/replace: every
  // queued and read-but-unanswered group is answered INVALID and forgotten
  // (their cookies are free again). Returns the read-but-unanswered cookies,
  // ascending; *undelivered gets how many groups were still waiting to be read.
  std::vector<uint32_t> Detach(size_t* undelivered);
  // Attach a fault-capable domain again: injection works after Detach.
  void Reattach();
  // The next n well-formed answers fail with EINVAL as for a cookie the
  // kernel no longer knows: the kernel forgot that group (answered it
  // INVALID itself), so its cookie is free and its credit returns.
  void RefuseNextAnswers(uint32_t n);

  struct Stats {
    size_t queued_groups = 0, queued_records = 0, awaiting_groups = 0;
    size_t cookie_bytes = 0;  // the cookie bitmap's size
    uint64_t refused = 0;     // answers refused by RefuseNextAnswers
    uint32_t outstanding = 0;
  };
  Stats GetStats();

 private:
  void UpdateReadinessLocked();
  bool HasCreditLocked() const;

  std::mutex mu_;
  std::condition_variable credit_cv_;
  std::deque<std::vector<iommu_hwpt_pgfault>> deliver_;
  size_t queued_records_ = 0;
  LowestFreeIds cookies_;  // read-but-unanswered groups
  uint32_t outstanding_;
  uint32_t refuse_ = 0;
  uint64_t refused_ = 0;
  bool signaled_ = false;
  bool detached_ = false;
  int efd_;
};
