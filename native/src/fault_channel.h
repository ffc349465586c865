// Where fault records come from and answers go to: the kernel fault FD or the
// simulator, which emulates the kernel's fault FD semantics. The engine only
// talks to this interface, so both are served by the same code.
#pragma once
#include "event_channel.h"

class FaultChannel : public EventChannel {
 public:
  // Read (see EventChannel): len must be a multiple of 40 (else -ESPIPE);
  // whole groups only; 0 when empty; -EINVAL when the first group does not fit.
  //
  // Write: len must be a multiple of 8 (else -ESPIPE). Stops at the first
  // unknown cookie or bad code: returns the bytes accepted before it, or
  // -EINVAL when it is the first one.
  virtual ssize_t Write(const void* buf, size_t len) = 0;
};

std::unique_ptr<FaultChannel> MakeKernelChannel(int fault_fd);
