// Where fault records come from and answers go to: the kernel fault FD or the
// simulator, which emulates the kernel's fault FD semantics. The engine only
// talks to this interface, so both are served by the same code.
#pragma once
#include "event_channel.h"

class FaultChannel : public EventChannel {
 public:
  // Read (see EventChannel), kernel semantics checked against 6.12 and 7.3 by
  // test/vm/fault-fd-conformance.test.ts: len must be a multiple of 40 (else
  // -ESPIPE); never blocks; 0 when nothing is waiting; whole groups only, as
  // many as fit; -EINVAL when the first waiting group does not fit (a 0-byte
  // read included). Cookies are the lowest free ones (0 included once an
  // answer to cookie 0 removed the xarray's placeholder).
  //
  // Write: len must be a multiple of 8 (else -ESPIPE). Answers apply one by
  // one; stops at the first unknown cookie or code other than 0/1: returns the
  // bytes applied before it, or -EINVAL when it is the first one.
  virtual ssize_t Write(const void* buf, size_t len) = 0;
};

std::unique_ptr<FaultChannel> MakeKernelChannel(int fault_fd);
