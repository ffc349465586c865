// The read-only vEVENTQ format on the event-queue engine (IOMMU_VEVENTQ_ALLOC
// FD, kernel 6.15+): each vEVENT is a struct iommufd_vevent_header followed
// by `data_bytes` of type-specific data (fixed per queue type, e.g. 32 for
// ARM SMMUv3, 4 for the selftest); a LOST_EVENTS header carries no data.
// Lost events are counted from the sequence numbers: a gap of k means k
// events were lost, and a LOST_EVENTS header stands for at least one.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "event_engine.h"

struct VeventTotals {
  uint64_t events = 0;        // vEVENTs with data read
  uint64_t lost_markers = 0;  // LOST_EVENTS headers read
  uint64_t lost = 0;          // events lost, from sequence gaps and markers
  uint64_t overflow = 0;      // events read but left out of batches (per-flush cap)
  uint64_t malformed = 0;     // unknown flag bits, or a torn event at the end of a read
  uint64_t reads = 0, bytes = 0, errors = 0;
};

struct VeventError {
  int err;
  std::string op, message;
};

struct VeventBatch : EngineBatch {
  uint32_t queue = 0;
  std::vector<uint32_t> sequence, flags, offset, length, lost_before;
  std::vector<double> read_ns;
  std::vector<uint8_t> data;  // every delivered event's data, concatenated
  std::vector<VeventError> errors;
  uint64_t lost = 0, overflow = 0;
  VeventTotals totals;
  void Clear();
  bool Empty() const { return sequence.empty() && errors.empty() && lost == 0 && overflow == 0; }
};

struct VeventOptions {
  uint32_t data_bytes = 0;
  uint64_t js_buffer_events = 1u << 16;
  uint64_t flush_interval_ns = 10'000'000;
};

class VeventQueueCore : public QueueFormat {
 public:
  VeventQueueCore(std::unique_ptr<EventChannel> channel, VeventOptions opts);
  ~VeventQueueCore() override;
  uint32_t id() const { return id_; }
  EventQueueEngine& engine() { return engine_; }
  void Stop() { engine_.Stop(); }
  VeventTotals GetTotals();

  const char* ThreadName() const override { return "iommuscope-vevq"; }
  const char* RecordName() const override { return "vEVENT"; }
  size_t InitialReadBytes() const override;
  size_t MaxReadBytes() const override;
  void ConsumeLocked(const uint8_t* data, size_t n, double now) override;
  void ReadFailedLocked(int err, const std::string& message) override;
  bool HasOutputLocked() const override { return !buf_.Empty(); }
  EngineBatch* TakeBatchLocked(EngineBatch* spare) override;
  bool BackloggedLocked() const override;
  bool Recycle(EngineBatch* spent) override;

 private:
  VeventOptions opts_;
  const uint32_t id_;
  uint32_t expected_ = 0;  // the next sequence number; the kernel starts a queue at 0
  VeventBatch buf_;
  VeventTotals totals_;
  EventQueueEngine engine_;  // last: its thread stops before the state above goes away
};
