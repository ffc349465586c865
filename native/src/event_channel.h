// A file descriptor the event-queue engine reads: the kernel fault FD, a
// vEVENTQ FD, or the simulator. Kernel semantics (iommufd eventq.c): read()
// never blocks, returns 0 when empty, and fails with EINVAL when the buffer
// cannot hold the first pending record (group or vEVENT).
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <memory>

class EventChannel {
 public:
  virtual ~EventChannel() = default;
  // Polled for EPOLLIN: readable while records are waiting to be read.
  virtual int PollFd() const = 0;
  // Returns bytes read or -errno; never blocks.
  virtual ssize_t Read(void* buf, size_t len) = 0;
  virtual void Close() = 0;
};

// A plain fd (kernel vEVENTQ FD, or a pipe in tests). Takes ownership and
// makes it non-blocking, so a read of an empty pipe returns EAGAIN.
std::unique_ptr<EventChannel> MakeFdChannel(int fd);
