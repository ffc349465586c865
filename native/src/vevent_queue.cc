#include "vevent_queue.h"

#include <string.h>

#include "uapi.h"

namespace {
constexpr size_t kHdr = sizeof(iommufd_vevent_header);
constexpr uint32_t kSeqMask = 0x7fffffffu;  // sequences run 0..INT_MAX, then 0
constexpr size_t kInitialReadEvents = 256;
constexpr size_t kMaxReadBytes = 16u << 20;
constexpr size_t kBacklogEvents = 1u << 18;
constexpr size_t kMaxRecycledEvents = 1u << 17;
constexpr size_t kMaxErrorsPerBatch = 1024;
}  // namespace

void VeventBatch::Clear() {
  sequence.clear();
  flags.clear();
  offset.clear();
  length.clear();
  lost_before.clear();
  read_ns.clear();
  data.clear();
  errors.clear();
  lost = overflow = 0;
  totals = VeventTotals();
}

VeventQueueCore::VeventQueueCore(std::unique_ptr<EventChannel> channel, VeventOptions opts)
    : opts_(opts), id_(NextQueueId()), engine_(std::move(channel), this, opts.flush_interval_ns) {}

VeventQueueCore::~VeventQueueCore() { engine_.Stop(); }

size_t VeventQueueCore::InitialReadBytes() const {
  return kInitialReadEvents * (kHdr + opts_.data_bytes);
}

size_t VeventQueueCore::MaxReadBytes() const {
  size_t n = InitialReadBytes();
  while (n < kMaxReadBytes) n *= 2;
  return n;
}

void VeventQueueCore::ConsumeLocked(const uint8_t* data, size_t n, double now) {
  totals_.reads++;
  totals_.bytes += n;
  size_t off = 0;
  while (off < n) {
    iommufd_vevent_header h;
    if (n - off < kHdr) {
      totals_.malformed++;  // a torn header: the kernel never splits a vEVENT
      break;
    }
    memcpy(&h, data + off, kHdr);
    const bool lost_marker = h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
    const size_t len = lost_marker ? 0 : opts_.data_bytes;
    if (n - off - kHdr < len) {
      totals_.malformed++;
      break;
    }
    if (h.flags & ~IOMMU_VEVENTQ_FLAG_LOST_EVENTS) totals_.malformed++;  // still delivered
    // Events between the expected sequence and this one were lost; a marker
    // also stands for the event with its own sequence.
    uint32_t gap = (h.sequence - expected_) & kSeqMask;
    uint64_t lost = uint64_t(gap) + (lost_marker ? 1 : 0);
    expected_ = (h.sequence + 1) & kSeqMask;
    totals_.lost += lost;
    buf_.lost += lost;
    if (lost_marker) totals_.lost_markers++;
    else totals_.events++;
    if (lost_marker || buf_.sequence.size() < opts_.js_buffer_events) {
      buf_.sequence.push_back(h.sequence);
      buf_.flags.push_back(h.flags);
      buf_.offset.push_back(uint32_t(buf_.data.size()));
      buf_.length.push_back(uint32_t(len));
      buf_.lost_before.push_back(uint32_t(lost > 0xffffffffu ? 0xffffffffu : lost));
      buf_.read_ns.push_back(now);
      buf_.data.insert(buf_.data.end(), data + off + kHdr, data + off + kHdr + len);
    } else {
      buf_.overflow++;
      totals_.overflow++;
    }
    off += kHdr + len;
  }
}

void VeventQueueCore::ReadFailedLocked(int err, const std::string& message) {
  totals_.errors++;
  if (buf_.errors.size() < kMaxErrorsPerBatch) buf_.errors.push_back({err, "read", message});
}

bool VeventQueueCore::BackloggedLocked() const { return buf_.sequence.size() >= kBacklogEvents; }

EngineBatch* VeventQueueCore::TakeBatchLocked(EngineBatch* spare) {
  VeventBatch* b = spare ? static_cast<VeventBatch*>(spare) : new VeventBatch();
  std::swap(*b, buf_);
  b->queue = id_;
  b->totals = totals_;
  return b;
}

bool VeventQueueCore::Recycle(EngineBatch* spent) {
  VeventBatch* b = static_cast<VeventBatch*>(spent);
  if (b->sequence.capacity() > kMaxRecycledEvents) return false;
  b->Clear();
  return true;
}

VeventTotals VeventQueueCore::GetTotals() {
  std::lock_guard<std::mutex> lock(engine_.mu());
  return totals_;
}
