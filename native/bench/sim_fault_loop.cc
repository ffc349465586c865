// Reference read/answer loop on the addon's SimChannel (native/src/sim_channel.cc),
// for the instruction-count comparison in bench/faults.ts (valgrind
// --tool=callgrind): the floor the sim pipeline's per-fault cost is held to.
//
//   usage: sim_fault_loop N     N one-page groups
//
// Like the pipeline's sim queue: an injector thread queues N groups with
// InjectGroup (PRI credit 512, the sim queue's default), and the main thread
// poll()s the channel's eventfd, read()s up to 256 records and write()s
// SUCCESS for every group, until all are answered. Prints {"faults":N}.
//
// Build: g++ -O2 -std=c++17 -pthread -I native/src native/bench/sim_fault_loop.cc
//   native/src/sim_channel.cc -o sim_fault_loop
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <thread>

#include "sim_channel.h"

int main(int argc, char** argv) {
  unsigned long total = argc > 1 ? strtoul(argv[1], nullptr, 0) : 0;
  if (total == 0 || total > 100000000ul) {
    fprintf(stderr, "usage: sim_fault_loop N   (1 <= N <= 1e8 one-page groups)\n");
    return 2;
  }
  SimChannel sim(512);
  std::atomic<bool> stop{false};
  std::thread injector([&] {
    for (unsigned long i = 0; i < total; i++) {
      if (sim.InjectGroup(1, 0, uint32_t(i), IOMMU_PGFAULT_PERM_READ, 0x10000 + i * 4096, 1,
                          &stop) != 0) {
        fprintf(stderr, "sim_fault_loop: InjectGroup failed at %lu\n", i);
        exit(1);
      }
    }
  });
  iommu_hwpt_pgfault recs[256];
  iommu_hwpt_page_response resp[256];
  unsigned long answered = 0;
  while (answered < total) {
    struct pollfd p = {sim.PollFd(), POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) {
      fprintf(stderr, "sim_fault_loop: nothing to read within 5 s (%lu of %lu)\n", answered, total);
      return 1;
    }
    ssize_t n = sim.Read(recs, sizeof recs);
    if (n < 0) {
      fprintf(stderr, "sim_fault_loop: read failed (%zd)\n", n);
      return 1;
    }
    size_t k = size_t(n) / sizeof recs[0], m = 0;
    for (size_t i = 0; i < k; i++) {
      if (!(recs[i].flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)) continue;
      resp[m].cookie = recs[i].cookie;
      resp[m].code = IOMMUFD_PAGE_RESP_SUCCESS;
      m++;
    }
    for (size_t off = 0; off < m;) {
      ssize_t w = sim.Write(resp + off, (m - off) * sizeof resp[0]);
      if (w <= 0) {
        fprintf(stderr, "sim_fault_loop: write failed (%zd)\n", w);
        return 1;
      }
      off += size_t(w) / sizeof resp[0];
    }
    answered += m;
  }
  injector.join();
  printf("{\"faults\":%lu}\n", total);
  return 0;
}
