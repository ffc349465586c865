#include "sim_channel.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

SimChannel::SimChannel(uint32_t outstanding_limit)
    : limit_(outstanding_limit), efd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

SimChannel::~SimChannel() { Close(); }

void SimChannel::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (efd_ >= 0) close(efd_);
  efd_ = -1;
  credit_cv_.notify_all();
}

// Level-triggered like the kernel's poll: the eventfd counter is non-zero
// exactly while the deliver list is non-empty.
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

ssize_t SimChannel::Read(void* buf, size_t len) {
  const size_t rec = sizeof(iommu_hwpt_pgfault);
  if (len % rec != 0) return -ESPIPE;
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (!deliver_.empty()) {
    std::vector<iommu_hwpt_pgfault>& g = deliver_.front();
    if (g.size() * rec > len - done) break;  // whole groups only; 0 if the first does not fit
    uint32_t cookie = next_cookie_++;
    if (next_cookie_ == 0) next_cookie_ = 1;
    for (iommu_hwpt_pgfault& r : g) {
      r.cookie = cookie;
      memcpy(static_cast<uint8_t*>(buf) + done, &r, rec);
      done += rec;
    }
    awaiting_.insert(cookie);
    deliver_.pop_front();
  }
  UpdateReadinessLocked();
  return static_cast<ssize_t>(done);
}

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
    if (refuse_answers_ > 0) {  // RefuseAnswers(): this one is refused, as if unknown
      refuse_answers_--;
      rc = -EINVAL;
      break;
    }
    if (awaiting_.erase(r.cookie) == 0) {
      rc = -EINVAL;
      break;
    }
    done += rsz;
  }
  if (done) credit_cv_.notify_all();
  return done ? static_cast<ssize_t>(done) : rc;
}

int SimChannel::InjectGroup(uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
                            uint64_t addr, uint32_t pages, const std::atomic<bool>* stop) {
  std::unique_lock<std::mutex> lock(mu_);
  credit_cv_.wait(lock, [&] {
    return *stop || detached_ || efd_ < 0 || limit_ == 0 ||
           deliver_.size() + awaiting_.size() < limit_;
  });
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
  std::vector<uint32_t> cookies(awaiting_.begin(), awaiting_.end());
  std::sort(cookies.begin(), cookies.end());
  awaiting_.clear();
  *undelivered = deliver_.size();
  deliver_.clear();
  detached_ = true;
  UpdateReadinessLocked();
  credit_cv_.notify_all();
  return cookies;
}
