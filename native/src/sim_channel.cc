#include "sim_channel.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

SimChannel::SimChannel(uint32_t outstanding)
    : outstanding_(outstanding ? outstanding : kDefaultOutstanding),
      efd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

SimChannel::~SimChannel() { Close(); }

void SimChannel::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (efd_ >= 0) close(efd_);
  efd_ = -1;
  credit_cv_.notify_all();
}

// The kernel's poll: EPOLLIN exactly while the deliver list is non-empty
// (an eventfd's counter is kept at 1 then, 0 otherwise); EPOLLOUT always,
// which an eventfd also reports.
void SimChannel::UpdateReadinessLocked() {
  if (efd_ < 0) return;
  bool want = !deliver_.empty();
  if (want && !signaled_) {
    uint64_t one = 1;
    if (write(efd_, &one, sizeof one) == sizeof one) signaled_ = true;
  } else if (!want && signaled_) {
    uint64_t v;
    if (read(efd_, &v, sizeof v) == sizeof v) signaled_ = false;
  }
}

// iommufd_fault_fops_read: whole groups only, as many as fit; a buffer that
// cannot hold the first pending group is EINVAL (also a 0-byte read while
// something is pending); 0 when nothing is pending.
ssize_t SimChannel::Read(void* buf, size_t len) {
  const size_t rec = sizeof(iommu_hwpt_pgfault);
  if (len % rec != 0) return -ESPIPE;
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  ssize_t rc = 0;
  while (!deliver_.empty()) {
    std::vector<iommu_hwpt_pgfault>& g = deliver_.front();
    if (done >= len || g.size() * rec > len - done) {
      if (done == 0) rc = -EINVAL;
      break;
    }
    uint32_t cookie;
    if (!cookies_.Take(&cookie)) {  // xa_alloc(xa_limit_32b) on an ALLOC1 xarray
      rc = -EBUSY;
      break;
    }
    for (iommu_hwpt_pgfault& r : g) {
      r.cookie = cookie;
      memcpy(static_cast<uint8_t*>(buf) + done, &r, rec);
      done += rec;
    }
    queued_records_ -= g.size();
    deliver_.pop_front();
  }
  UpdateReadinessLocked();
  return done == 0 ? rc : static_cast<ssize_t>(done);
}

// iommufd_fault_fops_write: answers are applied one by one in order; the
// first bad code or unknown cookie stops the batch with EINVAL, and the
// bytes applied before it are returned (the error only when it is the first).
ssize_t SimChannel::Write(const void* buf, size_t len) {
  const size_t rsz = sizeof(iommu_hwpt_page_response);
  if (len % rsz != 0) return -ESPIPE;
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  ssize_t rc = 0;
  while (done < len) {
    iommu_hwpt_page_response r;
    memcpy(&r, static_cast<const uint8_t*>(buf) + done, rsz);
    if (r.code != IOMMUFD_PAGE_RESP_SUCCESS && r.code != IOMMUFD_PAGE_RESP_INVALID) {
      rc = -EINVAL;
      break;
    }
    if (refuse_ > 0) {
      refuse_--;
      refused_++;
      cookies_.Release(r.cookie);  // forgotten: the kernel answered it already
      credit_cv_.notify_all();
      rc = -EINVAL;
      break;
    }
    if (!cookies_.Release(r.cookie)) {
      rc = -EINVAL;
      break;
    }
    done += rsz;
  }
  if (done) credit_cv_.notify_all();
  return done == 0 ? rc : static_cast<ssize_t>(done);
}

bool SimChannel::HasCreditLocked() const {
  return deliver_.size() + cookies_.Count() < outstanding_;
}

int SimChannel::InjectGroup(uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
                            uint64_t addr, uint32_t pages, const std::atomic<bool>* stop) {
  std::unique_lock<std::mutex> lock(mu_);
  credit_cv_.wait(lock, [&] { return *stop || detached_ || efd_ < 0 || HasCreditLocked(); });
  if (*stop || efd_ < 0) return -ECANCELED;
  if (detached_) return -ENODEV;
  std::vector<iommu_hwpt_pgfault> g(pages);
  for (uint32_t i = 0; i < pages; i++) {
    iommu_hwpt_pgfault& r = g[i];
    r = {};
    r.flags = (pasid ? IOMMU_PGFAULT_FLAGS_PASID_VALID : 0) |
              (i + 1 == pages ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0);
    r.dev_id = dev;
    r.pasid = pasid;
    r.grpid = grpid;
    r.perm = perm;
    r.addr = addr + uint64_t(i) * 4096;
  }
  queued_records_ += pages;
  deliver_.push_back(std::move(g));
  UpdateReadinessLocked();
  return 0;
}

void SimChannel::WakeInjectors() {
  std::lock_guard<std::mutex> lock(mu_);
  credit_cv_.notify_all();
}

std::vector<uint32_t> SimChannel::Detach(size_t* undelivered) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint32_t> cookies = cookies_.List();
  cookies_.Clear();
  *undelivered = deliver_.size();
  deliver_.clear();
  queued_records_ = 0;
  detached_ = true;
  UpdateReadinessLocked();
  credit_cv_.notify_all();
  return cookies;
}

void SimChannel::Reattach() {
  std::lock_guard<std::mutex> lock(mu_);
  detached_ = false;
}

void SimChannel::RefuseNextAnswers(uint32_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  refuse_ = n;
}

SimChannel::Stats SimChannel::GetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.queued_groups = deliver_.size();
  s.queued_records = queued_records_;
  s.awaiting_groups = cookies_.Count();
  s.cookie_bytes = cookies_.Capacity();
  s.refused = refused_;
  s.outstanding = outstanding_;
  return s;
}
