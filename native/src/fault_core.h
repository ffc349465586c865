// The fault queue format on the event-queue engine: decodes whole groups of
// 40-byte iommu_hwpt_pgfault records, gives each the next group sequence
// number, answers by policy without waiting on JS (8-byte page responses,
// written in chunks), keeps the pending table, and records every read and
// every answer, exactly, for the next flush. All answers are by sequence
// number; a group not pending is refused with ESTALE and nothing is written.
#pragma once
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "batch.h"
#include "event_engine.h"
#include "fault_channel.h"
#include "pending_table.h"
#include "policy.h"
#include "uapi.h"

class SimChannel;

// 2^18 records (10 MiB): more than any PRI group (PRI grants at most 2048 pages).
constexpr size_t kDefaultMaxReadBytes = (size_t(1) << 18) * sizeof(iommu_hwpt_pgfault);

struct QueueOptions {
  int iommufd = -1;  // for the 'map' action and mock injection
  bool has_ioas = false;
  uint32_t ioas = 0;
  bool has_mock_dev = false;
  uint32_t mock_dev = 0;
  uint64_t js_buffer_records = 1u << 20;
  uint64_t flush_interval_ns = 10'000'000;
  size_t max_read_bytes = kDefaultMaxReadBytes;  // the read buffer's cap (tests lower it)
};

struct PendingGroup {
  uint64_t seq = 0;
  uint32_t cookie = 0, dev = 0, pasid = 0xffffffff, grpid = 0;
  double read_ns = 0;
  std::vector<iommu_hwpt_pgfault> recs;
};

struct AnswerFailure {
  uint64_t seq;
  bool has_cookie;
  uint32_t cookie;
  int err;  // ESTALE: not pending; EINVAL: answered by the kernel; else the group stays pending
  std::string message;
  bool has_memo;  // ESTALE for a recently answered group: who, which code, when
  uint8_t by, code;
  double at_ns;
};

class FaultQueueCore : public QueueFormat {
 public:
  FaultQueueCore(std::unique_ptr<FaultChannel> channel, SimChannel* sim, QueueOptions opts);
  ~FaultQueueCore() override;

  uint32_t id() const { return id_; }
  EventQueueEngine& engine() { return engine_; }
  void Stop() { engine_.Stop(); }  // answers nothing

  void SetPolicy(Policy p);
  // Answers `seqs` (by the user); returns those the channel accepted.
  std::vector<uint64_t> Respond(const std::vector<uint64_t>& seqs, uint32_t code,
                                std::vector<AnswerFailure>* failed);
  // Answers every pending group, or only the pending ones among `only`
  // (others skipped); recorded as answered by the drain.
  size_t Drain(uint32_t code, const std::vector<uint64_t>* only = nullptr);
  std::vector<PendingGroup> Pending();
  Totals GetTotals();
  size_t SimDetach();
  // The caller detached or replaced the fault-reporting HWPT: the kernel has
  // answered every pending group INVALID. Record them so nothing answers twice.
  size_t RecordKernelDetach();

  const QueueOptions& options() const { return opts_; }
  SimChannel* sim() const { return sim_; }

  // QueueFormat
  const char* ThreadName() const override { return "iommuscope-read"; }
  const char* RecordName() const override { return "fault group"; }
  size_t InitialReadBytes() const override;
  size_t MaxReadBytes() const override;
  void ConsumeLocked(const uint8_t* data, size_t n, double now) override;
  void ReadFailedLocked(int err, const std::string& message) override;
  uint64_t NextDueLocked() const override;
  void FireDueLocked(uint64_t now) override;
  bool HasOutputLocked() const override { return !buf_.Empty(); }
  EngineBatch* TakeBatchLocked(EngineBatch* spare) override;
  bool BackloggedLocked() const override;
  bool Recycle(EngineBatch* spent) override;

 private:
  struct Delayed {
    uint64_t due_ns, seq;
    uint32_t code;
    int16_t rule;
    bool operator>(const Delayed& o) const { return due_ns > o.due_ns; }
  };

  // One answer about to be written. `entry` is its pending-table entry, or
  // null for an automatic answer (then `recs` point into the read buffer and
  // the group enters the table only if the channel refuses the answer).
  struct OutAnswer {
    uint64_t seq;
    uint32_t cookie, code;
    int16_t rule;
    double read_ns;
    PendingEntry* entry;
    const iommu_hwpt_pgfault* recs;
    uint32_t pages;
    uint32_t read_index;  // its row in buf_.read_* (automatic answers)
  };

  // Remembers who answered a recent group, for ESTALE messages.
  struct Memo {
    uint64_t seq;
    double at_ns;
    uint32_t cookie;
    uint8_t code, by;
  };

  // `first`: the group's first record in buf_.records, or kRecordsLeftOut when not copied yet.
  void AddGroupLocked(const iommu_hwpt_pgfault* recs, uint32_t n, double now, uint32_t first);
  void AppendRecordsLocked(uint32_t read_index, const iommu_hwpt_pgfault* recs, uint32_t n);
  PendingEntry& HoldLocked(const OutAnswer& a);
  // Writes `out` with the channel's partial-write rules; accepted groups are
  // recorded answered by `by`; one refused with EINVAL was answered by the kernel
  // (recorded so); other refusals stay (or become) pending.
  void WriteAnswersLocked(std::vector<OutAnswer>& out, uint8_t by, std::vector<uint64_t>* ok,
                          std::vector<AnswerFailure>* failed, bool report);
  void FlushAutoLocked() {
    WriteAnswersLocked(auto_, kByPolicy, nullptr, nullptr, true);
    for (uint32_t c : auto_cookies_) auto_cookie_bits_[(c >> 6) & (kCookieBitWords - 1)] = 0;
    auto_cookies_.clear();
  }
  bool AutoHoldsCookie(uint32_t cookie) const;
  uint32_t MapGroupLocked(uint64_t seq, const iommu_hwpt_pgfault* recs, uint32_t n);
  void KernelAnsweredLocked(PendingEntry& e, double now);
  void RecordAnsweredLocked(uint64_t seq, uint32_t cookie, uint32_t code, uint8_t by,
                            int16_t rule, double latency, double now);
  void RecordWrittenLocked(const OutAnswer* a, size_t k, uint8_t by, double now);
  void RecordErrorLocked(uint64_t seq, bool has_cookie, uint32_t cookie, int err,
                         const std::string& op, const std::string& msg);
  AnswerFailure StaleLocked(uint64_t seq, const char* why_extra) const;

  FaultChannel* channel_;  // owned by engine_
  SimChannel* sim_;
  QueueOptions opts_;
  const uint32_t id_;

  PendingTable table_;
  Policy policy_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<Delayed>> delays_;
  Batch buf_;
  Totals totals_;
  uint64_t next_seq_ = 0, seq_end_ = 0;  // sequence numbers reserved for the read being decoded
  std::vector<Memo> memo_;
  std::vector<OutAnswer> auto_;                 // reused by every read
  std::vector<uint32_t> auto_cookies_;          // their cookies, for a quick repeat check
  static constexpr size_t kCookieBitWords = 16;  // 1024 bits: cookies seen in auto_
  uint64_t auto_cookie_bits_[kCookieBitWords] = {};
  std::vector<iommu_hwpt_page_response> resp_;  // likewise

  EventQueueEngine engine_;  // last: its thread stops before the state above goes away
};
