#include "event_engine.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "errno_text.h"
#include "native_thread.h"

namespace {
constexpr int kMaxReadsPerWake = 64;  // then service timers and flushes; epoll re-fires
// A JS thread slow with batches (a loaded or emulated machine) gets them less
// often: it then spends about 1/kJsShare of its time on them and leaves the CPU
// to the reader that devices wait on. The wait after a batch is at most
// kMaxFlushGapNs (or the flush interval, when longer).
constexpr uint64_t kJsShare = 10;
constexpr uint64_t kMaxFlushGapNs = 100'000'000;
std::atomic<uint32_t> g_next_queue_id{1};
}  // namespace

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

uint32_t NextQueueId() { return g_next_queue_id.fetch_add(1, std::memory_order_relaxed); }

EventQueueEngine::EventQueueEngine(std::unique_ptr<EventChannel> channel, QueueFormat* format,
                                   uint64_t flush_interval_ns)
    : channel_(std::move(channel)),
      format_(format),
      flush_interval_ns_(flush_interval_ns),
      read_buf_(format->InitialReadBytes()),
      flush_gap_ns_(flush_interval_ns) {}

EventQueueEngine::~EventQueueEngine() { Stop(); }

int EventQueueEngine::Start(BatchSink sink) {
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
  thread_ = std::thread(&EventQueueEngine::Run, this);
  return 0;
}

void EventQueueEngine::Stop() {
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

void EventQueueEngine::Wake() {
  uint64_t one = 1;
  if (wakefd_ >= 0 && write(wakefd_, &one, sizeof one) < 0) {
    // the counter cannot overflow in practice; a failed wake only delays a flush
  }
}

void EventQueueEngine::Run() {
  EnterNativeThread(format_->ThreadName());
  const int chan_fd = channel_->PollFd();
  while (!stop_) {
    uint64_t due;
    {  // one lock per wake for resuming reads and the next due time
      std::lock_guard<std::mutex> lock(mu_);
      if (paused_ && !dead_ && !format_->BackloggedLocked()) SetPolling(true);
      due = DueLocked();
    }
    ArmTimer(due);
    struct epoll_event evs[4];
    int n = epoll_wait(epfd_, evs, 4, -1);
    if (n < 0 && errno != EINTR) break;
    bool readable = false, hung_up = false;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == chan_fd) {
        readable = true;
        hung_up = evs[i].events & (EPOLLHUP | EPOLLERR);
      } else {
        uint64_t v;
        if (read(fd, &v, sizeof v) < 0) {
          // EAGAIN: already consumed
        }
        if (fd == timerfd_) armed_ns_ = 0;  // a one-shot timer disarms itself when it fires
      }
    }
    if (stop_) break;
    if (readable) ReadAvailable(hung_up);
    const uint64_t now = MonotonicNs();
    EngineBatch* b;
    {  // and one for the format's timers and the flush
      std::lock_guard<std::mutex> lock(mu_);
      format_->FireDueLocked(now);
      b = TakeFlushLocked(now, false);
    }
    if (b) Deliver(b);
  }
  MaybeFlush(MonotonicNs(), true);  // hand JS what the last reads, drain or close produced
}

void EventQueueEngine::SetPolling(bool on) {
  struct epoll_event ev = {};
  ev.events = on ? uint32_t(EPOLLIN) : 0u;
  ev.data.fd = channel_->PollFd();
  epoll_ctl(epfd_, EPOLL_CTL_MOD, ev.data.fd, &ev);
  paused_ = !on;
}

void EventQueueEngine::StopPollingLocked() {
  dead_ = true;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, channel_->PollFd(), nullptr);
}

void EventQueueEngine::ReadAvailable(bool hung_up) {
  for (int i = 0; i < kMaxReadsPerWake; i++) {
    std::lock_guard<std::mutex> lock(mu_);
    if (dead_) return;
    if (format_->BackloggedLocked()) {
      SetPolling(false);  // JS is behind: let the records wait in the kernel
      return;
    }
    ssize_t n = channel_->Read(read_buf_.data(), read_buf_.size());
    if (n > 0) {
      format_->ConsumeLocked(read_buf_.data(), size_t(n), double(MonotonicNs()));
      // A read that did not fill the buffer found the queue (nearly) empty:
      // back to epoll (level-triggered, so anything left wakes it at once)
      // instead of a read() that returns 0.
      if (size_t(n) < read_buf_.size()) return;
      continue;
    }
    if (n == 0 || n == -EAGAIN) {
      // Empty. Only a pipe or socket whose writer is gone hangs up; the kernel's queues never do.
      if (hung_up) {
        const std::string what = format_->RecordName();
        format_->ReadFailedLocked(EPIPE, "the " + what + " fd hung up (its writer closed it); "
                                             "no more " + what + "s will be read from it");
        StopPollingLocked();
      }
      return;
    }
    int err = int(-n);
    const std::string what = format_->RecordName();
    if (err == ENOMEM) {
      // The vEVENTQ read allocates a copy of its lost-events header (GFP_ATOMIC):
      // a transient failure. Report it and try again on the next wake.
      format_->ReadFailedLocked(err, "reading the " + what + " queue failed for now: " +
                                         ErrnoText(err) + "; retrying");
      return;
    }
    if (err == EINVAL && read_buf_.size() < format_->MaxReadBytes()) {
      // The kernel's answer when the first pending record does not fit: grow and retry.
      read_buf_.resize(std::min(read_buf_.size() * 2, format_->MaxReadBytes()));
      continue;
    }
    if (err == EINVAL) {
      format_->ReadFailedLocked(
          EMSGSIZE, "the first pending " + what + " does not fit in " +
                        std::to_string(format_->MaxReadBytes()) +
                        " bytes (read() fails with EINVAL even at the largest buffer); it stays "
                        "queued in the kernel and no more " + what + "s are read from this queue");
    } else {
      format_->ReadFailedLocked(err, "reading the " + what + " queue failed: " + ErrnoText(err) +
                                         "; no more " + what + "s will be read from it");
    }
    StopPollingLocked();
    return;
  }
}

uint64_t EventQueueEngine::DueLocked() const {
  uint64_t due = format_->NextDueLocked();
  if (format_->HasOutputLocked() && !in_flight_) {
    uint64_t f = last_flush_ns_ + flush_gap_ns_;
    if (due == 0 || f < due) due = f;
  }
  return due;
}

// `due` is absolute; one already past fires at once. 0 disarms.
void EventQueueEngine::ArmTimer(uint64_t due) {
  if (due == armed_ns_) return;  // already armed for that (or disarmed): save the syscall per wake
  struct itimerspec its = {};
  if (due != 0) {
    its.it_value.tv_sec = time_t(due / 1000000000ull);
    its.it_value.tv_nsec = long(due % 1000000000ull);
  }
  timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &its, nullptr);
  armed_ns_ = due;
}

EngineBatch* EventQueueEngine::TakeFlushLocked(uint64_t now, bool final_flush) {
  if (!sink_ || !format_->HasOutputLocked()) return nullptr;
  if (!final_flush && (in_flight_ || now < last_flush_ns_ + flush_gap_ns_)) return nullptr;
  EngineBatch* b = format_->TakeBatchLocked(spare_.release());
  last_flush_ns_ = now;
  in_flight_ = true;
  return b;
}

void EventQueueEngine::Deliver(EngineBatch* b) {
  if (!sink_(b)) {  // the JS side is shutting down
    delete b;
    in_flight_ = false;
  }
}

void EventQueueEngine::MaybeFlush(uint64_t now, bool final_flush) {
  EngineBatch* b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    b = TakeFlushLocked(now, final_flush);
  }
  if (b) Deliver(b);
}

void EventQueueEngine::FlushDone(std::unique_ptr<EngineBatch> spent, uint64_t js_start_ns) {
  bool recycle = spent && format_->Recycle(spent.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (recycle) spare_ = std::move(spent);
    // The next flush is a flush interval after JS finished this one, not after
    // it was handed over: when JS is slower than the reader, the event loop
    // gets that interval for signals, timers and EPIPE between batches. And
    // the interval stretches to kJsShare times what converting and handling
    // this batch took the JS thread.
    const uint64_t now = MonotonicNs();
    const uint64_t js_ns = js_start_ns && now > js_start_ns ? now - js_start_ns : 0;
    const uint64_t cap = std::max(flush_interval_ns_, kMaxFlushGapNs);
    flush_gap_ns_ = std::clamp(js_ns * kJsShare, flush_interval_ns_, cap);
    last_flush_ns_ = now;
  }
  in_flight_ = false;
  Wake();  // more may have been buffered meanwhile, or reading may resume
}
