// The fault queue engine behind the JS FaultQueue: a reader thread that
// polls a FaultChannel, decodes groups into the pending table, answers them
// by policy without waiting on JS, and flushes coalesced batches to JS.
// One mutex (mu_) guards the table, the JS buffer and the totals; writes to
// the channel happen under it so a cookie is never answered twice.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "batch.h"
#include "fault_channel.h"
#include "policy.h"
#include "uapi.h"

class SimChannel;

struct QueueOptions {
  int iommufd = -1;  // for the 'map' action and mock injection
  bool has_ioas = false;
  uint32_t ioas = 0;
  bool has_mock_dev = false;
  uint32_t mock_dev = 0;
  uint64_t js_buffer_records = 1u << 20;
  uint64_t flush_interval_ns = 10'000'000;
};

struct PendingGroup {
  uint32_t cookie = 0, dev = 0, pasid = 0xffffffff, grpid = 0;
  double read_ns = 0;
  bool delayed = false;  // a delay action will answer it
  bool claimed = false;  // in the answer batch being written (catches repeated cookies)
  std::vector<iommu_hwpt_pgfault> recs;
};

struct AnswerRequest {
  uint32_t cookie;
  uint32_t code;
  int16_t rule;
};

struct AnswerFailure {
  uint32_t cookie;
  int err;  // ESTALE when it was not pending
  std::string message;
};

// Who fills in a batch: the JS wrapper's thread-safe function. Returns false
// when the batch could not be queued (the env is going away).
using BatchSink = std::function<bool(Batch*)>;

class FaultQueueCore {
 public:
  FaultQueueCore(std::unique_ptr<FaultChannel> channel, SimChannel* sim, QueueOptions opts);
  ~FaultQueueCore();

  int Start(BatchSink sink);  // 0 or -errno
  void Stop();                // joins the reader, closes the channel; answers nothing
  bool Started() const { return thread_.joinable(); }

  void SetPolicy(Policy p);
  // Answers `req` (all with `by`); returns the cookies accepted and fills failures.
  std::vector<uint32_t> Answer(const std::vector<AnswerRequest>& req, uint8_t by,
                               std::vector<AnswerFailure>* failed);
  // Answers every pending group, or only the pending ones among `only`
  // (others skipped); recorded as answered by the drain.
  size_t Drain(uint32_t code, const std::vector<uint32_t>* only = nullptr);
  std::vector<PendingGroup> Pending();
  Totals GetTotals();
  size_t SimDetach();
  // The caller detached or replaced the fault-reporting HWPT: the kernel has
  // answered every pending group INVALID. Record them so nothing answers twice.
  size_t RecordKernelDetach();
  // JS consumed the batch in flight; `spent` (copied out) is kept for reuse.
  void FlushDone(std::unique_ptr<Batch> spent);

  const QueueOptions& options() const { return opts_; }
  SimChannel* sim() const { return sim_; }

 private:
  struct Delayed {
    uint64_t due_ns;
    uint32_t cookie, code;
    int16_t rule;
    bool operator>(const Delayed& o) const { return due_ns > o.due_ns; }
  };

  // An automatic answer not yet written. Its group stays out of the pending
  // table unless the write fails; recs point into read_buf_.
  struct AutoAnswer {
    const iommu_hwpt_pgfault* recs;
    uint32_t n;
    uint32_t code;
    int16_t rule;
  };

  void Run();
  void ReadAvailable();
  void ProcessLocked(const iommu_hwpt_pgfault* recs, size_t count, double now);
  void AddGroupLocked(const iommu_hwpt_pgfault* recs, size_t n, double now);
  PendingGroup& InsertPendingLocked(const iommu_hwpt_pgfault* recs, size_t n, double now);
  void WriteAutoAnswersLocked(double read_ns);
  uint32_t MapGroupLocked(const iommu_hwpt_pgfault* recs, size_t n);  // the answer code
  std::vector<uint32_t> AnswerLocked(const std::vector<AnswerRequest>& req, uint8_t by,
                                     std::vector<AnswerFailure>* failed, bool report);
  void RecordKernelAnswersLocked(const std::vector<uint32_t>& cookies);
  // The kernel answered this pending group INVALID itself: record it, forget it.
  void EraseAnsweredByKernelLocked(std::map<uint32_t, PendingGroup>::iterator it, double now);
  void RecordAnsweredLocked(uint32_t cookie, uint32_t code, uint8_t by, int16_t rule,
                            double latency);
  void RecordErrorLocked(uint32_t cookie, int err, const std::string& op, const std::string& msg);
  void FireDueDelays(uint64_t now);
  void MaybeFlush(uint64_t now, bool final_flush);
  void ArmTimer(uint64_t now);
  void Wake();

  std::unique_ptr<FaultChannel> channel_;
  SimChannel* sim_;
  QueueOptions opts_;

  std::mutex mu_;
  std::map<uint32_t, PendingGroup> table_;
  Policy policy_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<Delayed>> delays_;
  Batch buf_;
  // The last batch JS consumed, cleared: the next flush swaps it in, so the
  // reader refills warm memory instead of faulting in fresh pages.
  std::unique_ptr<Batch> spare_;
  Totals totals_;
  std::vector<iommu_hwpt_pgfault> read_buf_;
  std::vector<AutoAnswer> auto_;                 // reused by every read
  std::vector<iommu_hwpt_page_response> resp_;  // likewise

  BatchSink sink_;
  std::atomic<bool> in_flight_{false};
  std::atomic<bool> stop_{false};
  uint64_t last_flush_ns_ = 0;
  int epfd_ = -1, wakefd_ = -1, timerfd_ = -1;
  bool channel_dead_ = false;
  std::thread thread_;
};

uint64_t MonotonicNs();
