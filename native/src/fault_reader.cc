// FaultQueueCore, read side: group decoding and identity, policy decisions,
// the batch handed to JS, pending listing, totals and kernel-side answers.
#include <string.h>

#include <algorithm>

#include "errno_text.h"
#include "fault_core.h"
#include "group_seq.h"
#include "sim_channel.h"

namespace {
constexpr size_t kRec = sizeof(iommu_hwpt_pgfault);
constexpr size_t kInitialReadRecords = 256;
// Automatic answers are written every this many groups and at the end of each
// read: one write per read of the initial buffer (as the plain C loop does),
// while a read of a grown buffer still answers its first groups early.
constexpr size_t kAnswerChunk = kInitialReadRecords;
constexpr size_t kMaxRecycledRecords = 1u << 16;  // larger batch buffers (bursts) are freed
constexpr size_t kMaxRecycledGroups = 1u << 17;
constexpr size_t kBacklogGroups = 1u << 18;  // unflushed reads that pause reading while JS is behind
constexpr size_t kMemoSize = 1u << 16;       // recent answers remembered for ESTALE messages
constexpr uint32_t kKnownFlags = 0xf;        // PASID_VALID, LAST_PAGE + kernel-internal bits 2..3
constexpr uint32_t kKnownPerm = 0xf;
}  // namespace

FaultQueueCore::FaultQueueCore(std::unique_ptr<FaultChannel> channel, SimChannel* sim,
                               QueueOptions opts)
    : channel_(channel.get()),
      sim_(sim),
      opts_(opts),
      id_(NextQueueId()),
      memo_(kMemoSize, Memo{0, 0, 0, 0, 0}),
      engine_(std::move(channel), this, opts.flush_interval_ns) {
  auto_.reserve(kAnswerChunk + 1);
  auto_cookies_.reserve(kAnswerChunk + 1);
}

FaultQueueCore::~FaultQueueCore() { engine_.Stop(); }

size_t FaultQueueCore::InitialReadBytes() const {
  return std::min(kInitialReadRecords * kRec, opts_.max_read_bytes);
}
size_t FaultQueueCore::MaxReadBytes() const { return opts_.max_read_bytes; }

void FaultQueueCore::SetPolicy(Policy p) {
  std::lock_guard<std::mutex> lock(engine_.mu());
  policy_ = std::move(p);  // applies to groups read from now on
}

static bool Malformed(const iommu_hwpt_pgfault& r) {
  return (r.flags & ~kKnownFlags) || (r.perm & ~kKnownPerm) || r.__reserved != 0 || r.cookie == 0;
}

void FaultQueueCore::ConsumeLocked(const uint8_t* data, size_t bytes, double now) {
  totals_.reads++;
  if (bytes % kRec) totals_.malformed++;  // a torn tail: cannot happen with a conforming channel
  const iommu_hwpt_pgfault* recs = reinterpret_cast<const iommu_hwpt_pgfault*>(data);
  size_t count = bytes / kRec;
  totals_.faults += count;
  // Count the groups first, to reserve their sequence numbers in one go.
  uint32_t groups = 0;
  for (size_t i = 0, start = 0; i < count; i++) {
    if (i > start && recs[i].cookie != recs[start].cookie) {
      groups++;
      start = i;
    }
    if (recs[i].flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) {
      groups++;
      start = i + 1;
    } else if (i + 1 == count) {
      groups++;
    }
  }
  next_seq_ = ReserveGroupSeqs(groups);
  seq_end_ = next_seq_ + groups;
  buf_.ReserveReads(groups);
  // When the whole read fits in this flush's record budget, its records go to
  // JS in one copy (every group's, held or automatic); else group by group
  // while there is room (kRecordsLeftOut: not copied yet).
  uint32_t base = kRecordsLeftOut;
  if (buf_.RecordCount() + count <= opts_.js_buffer_records) {
    base = uint32_t(buf_.RecordCount());
    buf_.records.insert(buf_.records.end(), data, data + count * kRec);
  }
  auto first_of = [&](size_t i) { return base == kRecordsLeftOut ? base : base + uint32_t(i); };
  size_t start = 0;  // first record of the group being collected
  for (size_t i = 0; i < count; i++) {
    const iommu_hwpt_pgfault& r = recs[i];
    if (Malformed(r)) totals_.malformed++;  // counted, still kept: it must be answered
    if (i > start && r.cookie != recs[start].cookie) {  // a group ended without LAST_PAGE
      AddGroupLocked(recs + start, uint32_t(i - start), now, first_of(start));
      start = i;
    }
    if (r.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) {
      AddGroupLocked(recs + start, uint32_t(i + 1 - start), now, first_of(start));
      start = i + 1;
    }
    // Answer early groups without waiting for the rest of a large read.
    if (auto_.size() >= kAnswerChunk) FlushAutoLocked();
  }
  if (start < count)  // whole groups
    AddGroupLocked(recs + start, uint32_t(count - start), now, first_of(start));
  if (!auto_.empty()) FlushAutoLocked();
  table_.Compact();
}

void FaultQueueCore::AppendRecordsLocked(uint32_t read_index, const iommu_hwpt_pgfault* recs,
                                         uint32_t n) {
  buf_.read_first[read_index] = uint32_t(buf_.RecordCount());
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(recs);
  buf_.records.insert(buf_.records.end(), bytes, bytes + n * kRec);
}

void FaultQueueCore::AddGroupLocked(const iommu_hwpt_pgfault* recs, uint32_t n, double now,
                                    uint32_t first) {
  totals_.groups++;
  const uint32_t cookie = recs[0].cookie;
  // Only a channel breaking the kernel's rules repeats a cookie within one
  // read: answer the earlier group first, so one write never holds a cookie twice.
  if (AutoHoldsCookie(cookie)) FlushAutoLocked();
  // The kernel reuses a cookie only after freeing it, and it frees one we did
  // not answer only by answering it INVALID itself (detach/replace of the
  // domain). So the older group with this cookie was answered by the kernel.
  if (table_.size() != 0) {
    if (PendingEntry* old = table_.FindCookie(cookie)) KernelAnsweredLocked(*old, now);
  }
  // Reserved for this read; the fallback cannot happen (the count above splits alike).
  const uint64_t seq = next_seq_ < seq_end_ ? next_seq_++ : ReserveGroupSeqs(1);
  NoteGroupSeq(seq, id_);
  const uint32_t row = uint32_t(buf_.read_seq.size());
  buf_.read_seq.push_back(double(seq));
  buf_.read_cookie.push_back(cookie);
  buf_.read_first.push_back(first);
  buf_.read_pages.push_back(n);
  buf_.read_ns.push_back(now);

  // No rules (one action for everything) is common and needs no group view.
  int rule = -1;
  const Action* a = &policy_.fallback;
  Action matched;
  if (!policy_.rules.empty()) {
    rule = MatchPolicy(policy_, recs, n, &matched);
    a = &matched;
  }
  OutAnswer out = {seq, cookie, 0, int16_t(rule), now, nullptr, recs, n, row};
  switch (a->kind) {
    case ActionKind::Hold:
      HoldLocked(out);
      return;
    case ActionKind::Delay: {
      HoldLocked(out).delayed = true;
      delays_.push({uint64_t(now) + a->delay_ns, seq, a->code, int16_t(rule)});
      return;
    }
    case ActionKind::Success:
    case ActionKind::Invalid:
      out.code = a->kind == ActionKind::Success ? 0u : 1u;
      break;
    case ActionKind::Map:
      out.code = MapGroupLocked(seq, recs, n);
      break;
  }
  // Automatic: its records go to JS only while this flush has room for them.
  if (first == kRecordsLeftOut) {  // not copied with the whole read
    if (buf_.RecordCount() + n <= opts_.js_buffer_records) {
      AppendRecordsLocked(row, recs, n);
    } else {
      buf_.overflow += n;
      totals_.overflow += n;
    }
  }
  auto_.push_back(out);
  auto_cookies_.push_back(cookie);
  auto_cookie_bits_[(cookie >> 6) & (kCookieBitWords - 1)] |= uint64_t(1) << (cookie & 63);
}

// A bitmap keyed by the cookie's low bits answers "no" without a scan; the
// kernel's lowest-free cookies are small, so a "maybe" is nearly always real.
bool FaultQueueCore::AutoHoldsCookie(uint32_t cookie) const {
  if (!(auto_cookie_bits_[(cookie >> 6) & (kCookieBitWords - 1)] & (uint64_t(1) << (cookie & 63))))
    return false;
  return std::find(auto_cookies_.begin(), auto_cookies_.end(), cookie) != auto_cookies_.end();
}

// Into the pending table; a pending group's records always reach JS.
PendingEntry& FaultQueueCore::HoldLocked(const OutAnswer& a) {
  if (buf_.read_first[a.read_index] == kRecordsLeftOut) {
    AppendRecordsLocked(a.read_index, a.recs, a.pages);
  }
  return table_.Insert(a.seq, a.recs, a.pages, a.read_ns);
}

void FaultQueueCore::ReadFailedLocked(int err, const std::string& message) {
  RecordErrorLocked(0, false, 0, err, "read", message);
}

bool FaultQueueCore::BackloggedLocked() const { return buf_.read_seq.size() >= kBacklogGroups; }

EngineBatch* FaultQueueCore::TakeBatchLocked(EngineBatch* spare) {
  Batch* b = spare ? static_cast<Batch*>(spare) : new Batch();
  std::swap(*b, buf_);
  b->queue = id_;
  totals_.pending = table_.size();
  b->totals = totals_;
  return b;
}

bool FaultQueueCore::Recycle(EngineBatch* spent) {
  Batch* b = static_cast<Batch*>(spent);
  if (b->records.capacity() > kMaxRecycledRecords * kRec ||
      b->read_seq.capacity() > kMaxRecycledGroups || b->ans_seq.capacity() > kMaxRecycledGroups)
    return false;
  b->Clear();
  return true;
}

Totals FaultQueueCore::GetTotals() {
  std::lock_guard<std::mutex> lock(engine_.mu());
  totals_.pending = table_.size();
  return totals_;
}

std::vector<PendingGroup> FaultQueueCore::Pending() {
  std::lock_guard<std::mutex> lock(engine_.mu());
  std::vector<PendingGroup> out;
  out.reserve(table_.size());
  table_.ForEach([&](const PendingEntry& e) {  // seq order is read order: oldest first
    PendingGroup g;
    g.seq = e.seq;
    g.cookie = e.cookie;
    g.dev = e.dev;
    g.pasid = e.pasid;
    g.grpid = e.grpid;
    g.read_ns = e.read_ns;
    g.recs.resize(e.pages);
    table_.CopyRecords(e, g.recs.data());
    out.push_back(std::move(g));
  });
  return out;
}

void FaultQueueCore::KernelAnsweredLocked(PendingEntry& e, double now) {
  uint64_t seq = e.seq;
  uint32_t cookie = e.cookie;
  double latency = now - e.read_ns;
  table_.Erase(e);
  RecordAnsweredLocked(seq, cookie, 1, kByKernel, -1, latency, now);
}

size_t FaultQueueCore::SimDetach() {
  size_t n;
  {
    std::lock_guard<std::mutex> lock(engine_.mu());
    size_t undelivered = 0;
    std::vector<uint32_t> cookies = sim_->Detach(&undelivered);
    double now = double(MonotonicNs());
    for (uint32_t c : cookies)
      if (PendingEntry* e = table_.FindCookie(c)) KernelAnsweredLocked(*e, now);
    table_.Compact();
    n = cookies.size() + undelivered;
  }
  engine_.Wake();
  return n;
}

size_t FaultQueueCore::RecordKernelDetach() {
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(engine_.mu());
    double now = double(MonotonicNs());
    table_.ForEach([&](PendingEntry& e) {
      KernelAnsweredLocked(e, now);
      n++;
    });
    table_.Compact();
  }
  engine_.Wake();
  return n;
}
