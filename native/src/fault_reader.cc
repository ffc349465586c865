// FaultQueueCore, reader side: the thread, reads in batches, group decoding
// into the pending table, and coalesced flushes to JS.
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "errors.h"
#include "fault_core.h"
#include "sim_channel.h"

namespace {
constexpr size_t kRec = sizeof(iommu_hwpt_pgfault);
constexpr size_t kInitialReadRecords = 256;
constexpr size_t kMaxReadRecords = 1u << 18;  // a group larger than this cannot exist
constexpr size_t kAnswerChunk = 32;            // automatic answers written every this many groups
constexpr size_t kMaxRecycledRecords = 1u << 16;  // larger batch buffers (bursts) are freed
constexpr int kMaxReadsPerWake = 64;           // then service timers/flushes, epoll re-fires
constexpr uint32_t kKnownFlags = 0xf;          // PASID_VALID, LAST_PAGE + kernel-internal bits 2..3
constexpr uint32_t kKnownPerm = 0xf;
}  // namespace

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

FaultQueueCore::FaultQueueCore(std::unique_ptr<FaultChannel> channel, SimChannel* sim,
                               QueueOptions opts)
    : channel_(std::move(channel)), sim_(sim), opts_(opts), read_buf_(kInitialReadRecords) {}

FaultQueueCore::~FaultQueueCore() { Stop(); }

int FaultQueueCore::Start(BatchSink sink) {
  if (thread_.joinable()) return -EBUSY;
  sink_ = std::move(sink);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  timerfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0 || timerfd_ < 0) return -errno;
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  int fds[3] = {channel_->PollFd(), wakefd_, timerfd_};
  for (int fd : fds) {
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return -errno;
  }
  last_flush_ns_ = 0;
  thread_ = std::thread(&FaultQueueCore::Run, this);
  return 0;
}

void FaultQueueCore::Stop() {
  if (thread_.joinable()) {
    stop_ = true;
    Wake();
    thread_.join();
  }
  for (int* fd : {&epfd_, &wakefd_, &timerfd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  channel_->Close();
}

void FaultQueueCore::Wake() {
  uint64_t one = 1;
  if (wakefd_ >= 0 && write(wakefd_, &one, sizeof one) < 0) {
    // the counter cannot overflow in practice; a failed wake only delays a flush
  }
}

void FaultQueueCore::Run() {
  pthread_setname_np(pthread_self(), "iommuscope-read");  // for top -H, perf, gdb
  while (!stop_) {
    ArmTimer(MonotonicNs());
    struct epoll_event evs[4];
    int n = epoll_wait(epfd_, evs, 4, -1);
    if (n < 0 && errno != EINTR) break;
    bool readable = false;
    for (int i = 0; i < n; i++) {
      uint64_t v;
      if (evs[i].data.fd == wakefd_ || evs[i].data.fd == timerfd_) {
        if (read(evs[i].data.fd, &v, sizeof v) < 0) {
          // EAGAIN: already consumed
        }
      } else {
        readable = true;
      }
    }
    if (stop_) break;
    if (readable) ReadAvailable();
    uint64_t now = MonotonicNs();
    FireDueDelays(now);
    MaybeFlush(now, false);
  }
  MaybeFlush(MonotonicNs(), true);  // hand JS what drain/close produced
}

void FaultQueueCore::ReadAvailable() {
  for (int i = 0; i < kMaxReadsPerWake && !channel_dead_; i++) {
    std::lock_guard<std::mutex> lock(mu_);
    ssize_t n = channel_->Read(read_buf_.data(), read_buf_.size() * kRec);
    if (n > 0) {
      totals_.reads++;
      if (size_t(n) % kRec) totals_.malformed++;  // a torn tail: cannot happen with a conforming channel
      ProcessLocked(read_buf_.data(), size_t(n) / kRec, double(MonotonicNs()));
      continue;
    }
    if (n == 0) {
      // 0 with EPOLLIN still set: the first group is larger than our buffer.
      if (!channel_->Readable()) return;
      if (read_buf_.size() >= kMaxReadRecords) {
        RecordErrorLocked(0, EMSGSIZE, "read",
                          "a fault group larger than " + std::to_string(kMaxReadRecords) +
                              " records cannot be read; it stays queued in the kernel");
        return;
      }
      read_buf_.resize(read_buf_.size() * 2);
      continue;
    }
    int err = int(-n);
    RecordErrorLocked(0, err, "read", "reading the fault queue failed: " + ErrnoText(err) +
                                          "; no more faults will be read from it");
    channel_dead_ = true;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, channel_->PollFd(), nullptr);
    return;
  }
}

static bool Malformed(const iommu_hwpt_pgfault& r) {
  return (r.flags & ~kKnownFlags) || (r.perm & ~kKnownPerm) || r.__reserved != 0 || r.cookie == 0;
}

void FaultQueueCore::ProcessLocked(const iommu_hwpt_pgfault* recs, size_t count, double now) {
  totals_.faults += count;
  size_t room = opts_.js_buffer_records - std::min<uint64_t>(opts_.js_buffer_records,
                                                             buf_.read_ns.size());
  size_t keep = std::min(count, room);
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(recs);
  buf_.records.insert(buf_.records.end(), bytes, bytes + keep * kRec);
  buf_.read_ns.insert(buf_.read_ns.end(), keep, now);
  buf_.overflow += count - keep;
  totals_.overflow += count - keep;
  size_t start = 0;  // first record of the group being collected
  for (size_t i = 0; i < count; i++) {
    const iommu_hwpt_pgfault& r = recs[i];
    if (Malformed(r)) totals_.malformed++;  // counted, still kept: it must be answered
    if (i > start && r.cookie != recs[start].cookie) {  // a group ended without LAST_PAGE
      AddGroupLocked(recs + start, i - start, now);
      start = i;
    }
    if (r.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) {
      AddGroupLocked(recs + start, i + 1 - start, now);
      start = i + 1;
    }
    // Answer early groups without waiting for the rest of a large read.
    if (auto_.size() >= kAnswerChunk) WriteAutoAnswersLocked(now);
  }
  if (start < count) AddGroupLocked(recs + start, count - start, now);  // reads hold whole groups
  if (!auto_.empty()) WriteAutoAnswersLocked(now);
}

PendingGroup& FaultQueueCore::InsertPendingLocked(const iommu_hwpt_pgfault* recs, size_t n,
                                                  double now) {
  const iommu_hwpt_pgfault& r = recs[0];
  PendingGroup& g = table_[r.cookie];
  g.cookie = r.cookie;
  g.dev = r.dev_id;
  g.pasid = (r.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) ? r.pasid : 0xffffffffu;
  g.grpid = r.grpid;
  g.read_ns = now;
  g.recs.assign(recs, recs + n);
  return g;
}

void FaultQueueCore::AddGroupLocked(const iommu_hwpt_pgfault* recs, size_t n, double now) {
  totals_.groups++;
  const iommu_hwpt_pgfault& first = recs[0];
  uint32_t cookie = first.cookie;
  auto it = table_.find(cookie);
  if (it != table_.end()) {
    // The kernel reuses a cookie only after freeing it, and it frees one we
    // did not answer only by answering it INVALID itself (detach/replace of
    // the domain). So the old group was answered by the kernel.
    EraseAnsweredByKernelLocked(it, now);
  }
  for (const AutoAnswer& a : auto_) {
    // Only a channel breaking the kernel's rules repeats a cookie within one
    // read: answer the earlier group first, so the same cookie is never in one write twice.
    if (a.recs[0].cookie == cookie) {
      WriteAutoAnswersLocked(now);
      break;
    }
  }
  Action a;
  int rule = MatchPolicy(policy_, recs, n, &a);
  switch (a.kind) {
    case ActionKind::Hold:
      InsertPendingLocked(recs, n, now);
      break;
    case ActionKind::Success:
    case ActionKind::Invalid:
      auto_.push_back({recs, uint32_t(n), a.kind == ActionKind::Success ? 0u : 1u, int16_t(rule)});
      break;
    case ActionKind::Delay: {
      PendingGroup& g = InsertPendingLocked(recs, n, now);
      g.delayed = true;
      delays_.push({uint64_t(now) + a.delay_ns, cookie, a.code, int16_t(rule)});
      break;
    }
    case ActionKind::Map:
      auto_.push_back({recs, uint32_t(n), MapGroupLocked(recs, n), int16_t(rule)});
      break;
  }
}

void FaultQueueCore::ArmTimer(uint64_t now) {
  uint64_t due = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!delays_.empty()) due = delays_.top().due_ns;
    if (!buf_.Empty() && !in_flight_) {
      uint64_t f = last_flush_ns_ + opts_.flush_interval_ns;
      if (due == 0 || f < due) due = f;
    }
  }
  struct itimerspec its = {};
  if (due != 0) {
    if (due <= now) due = now + 1;  // 0 would disarm
    its.it_value.tv_sec = time_t(due / 1000000000ull);
    its.it_value.tv_nsec = long(due % 1000000000ull);
  }
  timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void FaultQueueCore::MaybeFlush(uint64_t now, bool final_flush) {
  Batch* b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (buf_.Empty() || !sink_) return;
    if (!final_flush && (in_flight_ || now < last_flush_ns_ + opts_.flush_interval_ns)) return;
    b = spare_ ? spare_.release() : new Batch();
    std::swap(*b, buf_);
    totals_.pending = table_.size();
    b->totals = totals_;
    last_flush_ns_ = now;
    in_flight_ = true;
  }
  if (!sink_(b)) {  // the JS side is shutting down
    delete b;
    in_flight_ = false;
  }
}

void FaultQueueCore::FlushDone(std::unique_ptr<Batch> spent) {
  if (spent && spent->records.capacity() <= kMaxRecycledRecords * kRec &&
      spent->answered.capacity() <= kMaxRecycledRecords) {
    spent->Clear();
    std::lock_guard<std::mutex> lock(mu_);
    spare_ = std::move(spent);
  }
  in_flight_ = false;
  Wake();  // more may have been buffered meanwhile
}

Totals FaultQueueCore::GetTotals() {
  std::lock_guard<std::mutex> lock(mu_);
  totals_.pending = table_.size();
  return totals_;
}

std::vector<PendingGroup> FaultQueueCore::Pending() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PendingGroup> out;
  out.reserve(table_.size());
  for (auto& kv : table_) out.push_back(kv.second);
  std::stable_sort(out.begin(), out.end(), [](const PendingGroup& a, const PendingGroup& b) {
    return a.read_ns < b.read_ns;
  });
  return out;
}

void FaultQueueCore::EraseAnsweredByKernelLocked(std::map<uint32_t, PendingGroup>::iterator it,
                                                 double now) {
  uint32_t cookie = it->first;
  double latency = now - it->second.read_ns;
  table_.erase(it);
  RecordAnsweredLocked(cookie, 1, kByKernel, -1, latency);
}

void FaultQueueCore::RecordKernelAnswersLocked(const std::vector<uint32_t>& cookies) {
  double now = double(MonotonicNs());
  for (uint32_t c : cookies) {
    auto it = table_.find(c);
    if (it != table_.end()) EraseAnsweredByKernelLocked(it, now);
  }
  Wake();
}

size_t FaultQueueCore::SimDetach() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t undelivered = 0;
  std::vector<uint32_t> cookies = sim_->Detach(&undelivered);
  RecordKernelAnswersLocked(cookies);
  return cookies.size() + undelivered;
}

size_t FaultQueueCore::RecordKernelDetach() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint32_t> cookies;
  cookies.reserve(table_.size());
  for (auto& kv : table_) cookies.push_back(kv.first);
  RecordKernelAnswersLocked(cookies);
  return cookies.size();
}
