// A user-space emulation of the kernel fault FD: simulated PRI devices put
// real 40-byte iommu_hwpt_pgfault records (whole groups) on a deliver list;
// readiness is an eventfd; cookies count from 1, one per group; read/write
// follow the kernel's rules (see FaultChannel). outstandingLimit models PRI
// credits: a device waits while that many groups are unanswered.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "fault_channel.h"
#include "uapi.h"

class SimChannel : public FaultChannel {
 public:
  explicit SimChannel(uint32_t outstanding_limit);
  ~SimChannel() override;
  int PollFd() const override { return efd_; }
  ssize_t Read(void* buf, size_t len) override;
  ssize_t Write(const void* buf, size_t len) override;
  void Close() override;

  // Queue one group of `pages` page requests (addr steps one page). Waits for
  // a PRI credit; returns 0, or -ECANCELED when stopped, -ENODEV once detached.
  int InjectGroup(uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr,
                  uint32_t pages, const std::atomic<bool>* stop);
  // Wake an injector waiting for credits (it re-checks its stop flag).
  void WakeInjectors();
  // Detach the simulated domain: every unanswered group is answered INVALID.
  // Returns the cookies of read-but-unanswered groups; *undelivered gets how
  // many groups were still waiting to be read.
  std::vector<uint32_t> Detach(size_t* undelivered);
  // For tests: refuse the next `count` responses with EINVAL, as the kernel
  // does for a cookie it no longer knows (the groups stay awaiting an answer).
  void RefuseAnswers(uint32_t count) { refuse_answers_ = count; }

 private:
  void UpdateReadinessLocked();

  std::mutex mu_;
  std::condition_variable credit_cv_;
  std::deque<std::vector<iommu_hwpt_pgfault>> deliver_;
  std::unordered_set<uint32_t> awaiting_;
  uint32_t next_cookie_ = 1;
  uint32_t limit_;
  bool signaled_ = false;
  bool detached_ = false;
  int efd_;
  std::atomic<uint32_t> refuse_answers_{0};
};
