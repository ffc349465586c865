// The generic native event-queue engine. One thread per queue polls an
// EventChannel (epoll, with an eventfd to wake it and a timerfd for flushes
// and the format's timers), reads in batches into a buffer that grows when
// the kernel says the first record does not fit (EINVAL), hands the bytes to
// a QueueFormat, and flushes the format's coalesced output to JS: one sink
// call per flush, at most one in flight, the spent batch recycled.
//
// One mutex (mu()) guards the format's state. Reads (and a format's writes
// to its channel) happen under it, so JS calls that take it see a state in
// which every record read so far has been decoded.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "event_channel.h"

// What one flush hands to JS; each format has its own.
struct EngineBatch {
  virtual ~EngineBatch() = default;
};

class QueueFormat {
 public:
  virtual ~QueueFormat() = default;
  virtual const char* ThreadName() const = 0;  // for top -H, perf, gdb (15 chars)
  virtual const char* RecordName() const = 0;  // in messages: "fault group", "vEVENT"
  virtual size_t InitialReadBytes() const = 0;
  virtual size_t MaxReadBytes() const = 0;  // >= the initial size; growth doubles up to it
  // The methods below are called with the engine lock held.
  virtual void ConsumeLocked(const uint8_t* data, size_t n, double now_ns) = 0;
  virtual void ReadFailedLocked(int err, const std::string& message) = 0;
  virtual uint64_t NextDueLocked() const { return 0; }  // CLOCK_MONOTONIC ns; 0: none
  virtual void FireDueLocked(uint64_t now_ns) { (void)now_ns; }
  virtual bool HasOutputLocked() const = 0;
  // Moves the buffered output into `spare` (a recycled batch, or a new one when null).
  virtual EngineBatch* TakeBatchLocked(EngineBatch* spare) = 0;
  // When true, reading pauses until JS consumes the batch in flight (memory stays bounded).
  virtual bool BackloggedLocked() const { return false; }
  // Clears a spent batch for reuse; false when it is too large to keep.
  virtual bool Recycle(EngineBatch* spent) = 0;
};

// Delivers a batch to JS (the wrapper's thread-safe function). Returns false
// when it could not be queued (the env is going away).
using BatchSink = std::function<bool(EngineBatch*)>;

class EventQueueEngine {
 public:
  EventQueueEngine(std::unique_ptr<EventChannel> channel, QueueFormat* format,
                   uint64_t flush_interval_ns);
  ~EventQueueEngine();

  int Start(BatchSink sink);  // 0 or -errno
  void Stop();                // joins the thread (after a last flush), closes the channel
  bool Started() const { return thread_.joinable(); }
  // JS consumed the batch in flight; `spent` (already copied out) is kept for reuse.
  // `js_start_ns`: when the JS thread began converting the batch (0: it did not).
  void FlushDone(std::unique_ptr<EngineBatch> spent, uint64_t js_start_ns = 0);
  void Wake();  // so new output reaches JS in the next flush
  std::mutex& mu() { return mu_; }
  EventChannel* channel() const { return channel_.get(); }

 private:
  void Run();
  void ReadAvailable(bool hung_up);
  void StopPollingLocked();
  void SetPolling(bool on);
  uint64_t DueLocked() const;  // the timerfd's next due time: the format's timers, the flush
  void ArmTimer(uint64_t due);
  EngineBatch* TakeFlushLocked(uint64_t now, bool final_flush);  // null: nothing due
  void Deliver(EngineBatch* b);
  void MaybeFlush(uint64_t now, bool final_flush);

  std::unique_ptr<EventChannel> channel_;
  QueueFormat* format_;
  uint64_t flush_interval_ns_;
  std::mutex mu_;
  std::vector<uint8_t> read_buf_;
  std::unique_ptr<EngineBatch> spare_;
  BatchSink sink_;
  std::atomic<bool> in_flight_{false};
  std::atomic<bool> stop_{false};
  uint64_t last_flush_ns_ = 0;  // when the last batch was handed to JS, then when JS returned
  uint64_t flush_gap_ns_;       // from JS returning to the next flush: see FlushDone
  uint64_t armed_ns_ = 0;  // the timerfd's armed absolute due time; 0 disarmed
  int epfd_ = -1, wakefd_ = -1, timerfd_ = -1;
  bool dead_ = false;    // the channel failed: no more reads
  bool paused_ = false;  // backlogged: EPOLLIN off until a flush completes
  std::thread thread_;
};

uint64_t MonotonicNs();
// Process-unique queue ids (1, 2, ...), shared by every kind of queue.
uint32_t NextQueueId();
