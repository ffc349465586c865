// The kernel fault FD from IOMMU_FAULT_QUEUE_ALLOC behind FaultChannel.
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "fault_channel.h"

bool FaultChannel::Readable() const {
  struct pollfd p = {PollFd(), POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

namespace {

class KernelChannel : public FaultChannel {
 public:
  explicit KernelChannel(int fd) : fd_(fd) {}
  ~KernelChannel() override { Close(); }
  int PollFd() const override { return fd_; }
  ssize_t Read(void* buf, size_t len) override {
    for (;;) {
      ssize_t n = read(fd_, buf, len);
      if (n >= 0) return n;
      if (errno != EINTR) return -errno;
    }
  }
  ssize_t Write(const void* buf, size_t len) override {
    for (;;) {
      ssize_t n = write(fd_, buf, len);
      if (n >= 0) return n;
      if (errno != EINTR) return -errno;
    }
  }
  void Close() override {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<FaultChannel> MakeKernelChannel(int fault_fd) {
  return std::make_unique<KernelChannel>(fault_fd);
}
