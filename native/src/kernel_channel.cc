// The kernel's fault FD (IOMMU_FAULT_QUEUE_ALLOC) behind FaultChannel, and
// any other fd (vEVENTQ FD, test pipes) behind EventChannel.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fault_channel.h"

namespace {

ssize_t ReadFd(int fd, void* buf, size_t len) {
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

class KernelChannel : public FaultChannel {
 public:
  explicit KernelChannel(int fd) : fd_(fd) {}
  ~KernelChannel() override { Close(); }
  int PollFd() const override { return fd_; }
  ssize_t Read(void* buf, size_t len) override { return ReadFd(fd_, buf, len); }
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

class FdChannel : public EventChannel {
 public:
  explicit FdChannel(int fd) : fd_(fd) {
    int fl = fcntl(fd_, F_GETFL);
    if (fl >= 0) fcntl(fd_, F_SETFL, fl | O_NONBLOCK);
  }
  ~FdChannel() override { Close(); }
  int PollFd() const override { return fd_; }
  ssize_t Read(void* buf, size_t len) override { return ReadFd(fd_, buf, len); }
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

std::unique_ptr<EventChannel> MakeFdChannel(int fd) { return std::make_unique<FdChannel>(fd); }
