/*
 * Reference fault loop in plain C on the kernel's iommufd selftest mock
 * fault queue: the floor the native addon's fault path is compared against
 * (bench/faults.ts compiles and runs this in the test VM, `-i none`).
 *
 *   usage: c_fault_loop [N [RATE]]   N page requests (default 100000),
 *                                    RATE per second (default 0: as fast as possible)
 *
 * Sets up the mock fault queue (mock_queue.c); then the main thread issues
 * N TRIGGER_IOPF (paced like the addon's injector: request i is due at
 * start + i/RATE) while a second thread poll()s the fault FD, read()s
 * batches and write()s SUCCESS for every group. Each request has its own
 * address (MOCK_BASE_IOVA + i pages): the responder finds its trigger time by it.
 * Latency is per request, from CLOCK_MONOTONIC just before its TRIGGER_IOPF
 * to CLOCK_MONOTONIC just after the write() that answered it returned.
 * `seconds` runs from the first trigger to the last answer's write.
 * readP50Us/readP99Us: trigger to just after the read() that returned it.
 * Prints one JSON line: {faults, rate, seconds, faultsPerSec, p50Us, p99Us,
 * readP50Us, readP99Us}.
 * Exit status 1 with a message on stderr when a step fails.
 *
 * Build: gcc -O2 -pthread -I native/src native/bench/c_fault_loop.c
 *        native/bench/mock_queue.c -o c_fault_loop
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "mock_queue.h"
#include "uapi.h"

#define BATCH 256

static struct mock_queue mq;
static unsigned long total;
static double *sent_ns; /* by request: when its TRIGGER_IOPF was issued */
static double *lat_ns;  /* by request: answer latency */
static double *read_ns; /* by request: trigger to just after the read() that returned it */
static double last_answer_ns;

static void die(const char *what) {
  fprintf(stderr, "c_fault_loop: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Reads batches and answers every group SUCCESS until all are answered. */
static void *responder(void *arg) {
  (void)arg;
  struct iommu_hwpt_pgfault recs[BATCH];
  struct iommu_hwpt_page_response resp[BATCH];
  unsigned long answered = 0;
  while (answered < total) {
    struct pollfd p = {.fd = mq.fault_fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0) {
      fprintf(stderr, "c_fault_loop: no fault within 5 s (%lu of %lu answered)\n", answered, total);
      exit(1);
    }
    ssize_t n = read(mq.fault_fd, recs, sizeof(recs));
    if (n < 0) die("read fault fd");
    double tr = mock_now_ns();
    size_t k = (size_t)n / sizeof(recs[0]), m = 0;
    for (size_t i = 0; i < k; i++) {
      if (!(recs[i].flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)) continue; /* mock groups: 1 page */
      resp[m].cookie = recs[i].cookie;
      resp[m].code = IOMMUFD_PAGE_RESP_SUCCESS;
      m++;
    }
    size_t off = 0;
    while (off < m) {
      ssize_t w = write(mq.fault_fd, resp + off, (m - off) * sizeof(resp[0]));
      if (w <= 0) die("write fault fd");
      off += (size_t)w / sizeof(resp[0]);
    }
    double t = mock_now_ns();
    for (size_t i = 0; i < k; i++) {
      unsigned long r = (unsigned long)((recs[i].addr - MOCK_BASE_IOVA) / 4096);
      if (r < total) {
        lat_ns[r] = t - sent_ns[r];
        read_ns[r] = tr - sent_ns[r];
      }
    }
    answered += m;
    last_answer_ns = t;
  }
  return NULL;
}

/* Sleeps until due_ns in slices of at most 20 ms, as the addon's injector does. */
static void pace_until(double due_ns) {
  for (;;) {
    double now = mock_now_ns();
    if (now >= due_ns) return;
    double slice = due_ns - now < 2e7 ? due_ns - now : 2e7;
    struct timespec ts = {(time_t)(slice / 1e9), (long)((unsigned long long)slice % 1000000000ull)};
    nanosleep(&ts, NULL);
  }
}

int main(int argc, char **argv) {
  total = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
  double rate = argc > 2 ? strtod(argv[2], NULL) : 0;
  if (total == 0 || total > 100000000ul || !(rate >= 0)) {
    fprintf(stderr, "usage: c_fault_loop [N [RATE]]   (1 <= N <= 1e8 page requests, RATE/s >= 0)\n");
    return 2;
  }
  sent_ns = calloc(total, sizeof(double));
  lat_ns = calloc(total, sizeof(double));
  read_ns = calloc(total, sizeof(double));
  if (!sent_ns || !lat_ns || !read_ns) die("calloc");
  mock_queue_open(&mq, "c_fault_loop");

  pthread_t th;
  double start = mock_now_ns();
  if (pthread_create(&th, NULL, responder, NULL)) die("pthread_create");
  for (unsigned long i = 0; i < total; i++) {
    if (rate > 0) pace_until(start + (double)i * 1e9 / rate);
    struct iommu_test_cmd c = {.op = IOMMU_TEST_OP_TRIGGER_IOPF};
    c.size = sizeof(c);
    c.trigger_iopf.dev_id = mq.idev;
    c.trigger_iopf.grpid = (uint32_t)i;
    c.trigger_iopf.perm = IOMMU_PGFAULT_PERM_READ;
    c.trigger_iopf.addr = MOCK_BASE_IOVA + i * 4096; /* unique: the responder finds the request by it */
    sent_ns[i] = mock_now_ns();
    if (ioctl(mq.iommufd, IOMMU_TEST_CMD, &c)) die("IOMMU_TEST_CMD(TRIGGER_IOPF)");
  }
  pthread_join(th, NULL);
  double seconds = (last_answer_ns - sent_ns[0]) / 1e9;

  mock_report(total, rate, seconds, lat_ns, read_ns);
  return 0;
}
