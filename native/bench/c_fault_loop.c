/*
 * Reference fault loop in plain C on the kernel's iommufd selftest mock
 * fault queue: the floor the native addon's fault path is compared against
 * (bench/faults.ts compiles and runs this in the test VM, `-i none`).
 *
 *   usage: c_fault_loop [N [RATE]]   N page requests (default 100000),
 *                                    RATE per second (default 0: as fast as possible)
 *
 * Sets up IOAS_ALLOC, MOCK_DOMAIN, HWPT_ALLOC(NEST_PARENT), FAULT_QUEUE_ALLOC,
 * a nested HWPT (data_type IOMMU_HWPT_DATA_SELFTEST, FAULT_ID_VALID,
 * iotlb = IOMMU_TEST_IOTLB_DEFAULT) and MOCK_DOMAIN_REPLACE; then the main
 * thread issues N TRIGGER_IOPF (paced like the addon's injector: request i is
 * due at start + i/RATE) while a second thread poll()s the fault FD, read()s
 * batches and write()s SUCCESS for every group. Each request has its own
 * address (BASE_IOVA + i pages): the responder finds its trigger time by it.
 * Latency is per request, from CLOCK_MONOTONIC just before its TRIGGER_IOPF
 * to CLOCK_MONOTONIC just after the write() that answered it returned.
 * `seconds` runs from the first trigger to the last answer's write.
 * readP50Us/readP99Us: trigger to just after the read() that returned it.
 * Prints one JSON line: {faults, rate, seconds, faultsPerSec, p50Us, p99Us,
 * readP50Us, readP99Us}.
 * Exit status 1 with a message on stderr when a step fails.
 *
 * Build: gcc -O2 -pthread -I native/src native/bench/c_fault_loop.c -o c_fault_loop
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
#include <fcntl.h>
#include <unistd.h>

#include "uapi.h"

#define BATCH 256
#define BASE_IOVA 0x2000000ull /* inside the mock aperture */

static int iommufd = -1, fault_fd = -1;
static unsigned long total;
static double *sent_ns; /* by request: when its TRIGGER_IOPF was issued */
static double *lat_ns;  /* by request: answer latency */
static double *read_ns; /* by request: trigger to just after the read() that returned it */
static double last_answer_ns;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "c_fault_loop: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void test_cmd(struct iommu_test_cmd *c, const char *what) {
  c->size = sizeof(*c);
  if (ioctl(iommufd, IOMMU_TEST_CMD, c)) die(what);
}

static void setup(unsigned *idev) {
  iommufd = open("/dev/iommu", O_RDWR);
  if (iommufd < 0) die("open /dev/iommu");

  struct iommu_ioas_alloc ioas = {.size = sizeof(ioas)};
  if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas)) die("IOMMU_IOAS_ALLOC");

  struct iommu_test_cmd md = {.op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = ioas.out_ioas_id};
  test_cmd(&md, "IOMMU_TEST_CMD(MOCK_DOMAIN)");
  *idev = md.mock_domain.out_idev_id;

  struct iommu_hwpt_alloc parent = {.size = sizeof(parent),
                                    .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
                                    .dev_id = *idev,
                                    .pt_id = ioas.out_ioas_id};
  if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &parent)) die("IOMMU_HWPT_ALLOC(NEST_PARENT)");

  struct iommu_fault_alloc fa = {.size = sizeof(fa)};
  if (ioctl(iommufd, IOMMU_FAULT_QUEUE_ALLOC, &fa)) die("IOMMU_FAULT_QUEUE_ALLOC");
  fault_fd = (int)fa.out_fault_fd;

  struct iommu_hwpt_selftest data = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
  struct iommu_hwpt_alloc nested = {.size = sizeof(nested),
                                    .flags = IOMMU_HWPT_FAULT_ID_VALID,
                                    .dev_id = *idev,
                                    .pt_id = parent.out_hwpt_id,
                                    .data_type = IOMMU_HWPT_DATA_SELFTEST,
                                    .data_len = sizeof(data),
                                    .data_uptr = (uint64_t)(uintptr_t)&data,
                                    .fault_id = fa.out_fault_id};
  if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &nested)) die("IOMMU_HWPT_ALLOC(nested, FAULT_ID_VALID)");

  struct iommu_test_cmd rep = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
                               .id = md.mock_domain.out_stdev_id};
  rep.mock_domain_replace.pt_id = nested.out_hwpt_id;
  test_cmd(&rep, "IOMMU_TEST_CMD(MOCK_DOMAIN_REPLACE)");
}

/* Reads batches and answers every group SUCCESS until all are answered. */
static void *responder(void *arg) {
  (void)arg;
  struct iommu_hwpt_pgfault recs[BATCH];
  struct iommu_hwpt_page_response resp[BATCH];
  unsigned long answered = 0;
  while (answered < total) {
    struct pollfd p = {.fd = fault_fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0) {
      fprintf(stderr, "c_fault_loop: no fault within 5 s (%lu of %lu answered)\n", answered, total);
      exit(1);
    }
    ssize_t n = read(fault_fd, recs, sizeof(recs));
    if (n < 0) die("read fault fd");
    double tr = now_ns();
    size_t k = (size_t)n / sizeof(recs[0]), m = 0;
    for (size_t i = 0; i < k; i++) {
      if (!(recs[i].flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)) continue; /* mock groups: 1 page */
      resp[m].cookie = recs[i].cookie;
      resp[m].code = IOMMUFD_PAGE_RESP_SUCCESS;
      m++;
    }
    size_t off = 0;
    while (off < m) {
      ssize_t w = write(fault_fd, resp + off, (m - off) * sizeof(resp[0]));
      if (w <= 0) die("write fault fd");
      off += (size_t)w / sizeof(resp[0]);
    }
    double t = now_ns();
    for (size_t i = 0; i < k; i++) {
      unsigned long r = (unsigned long)((recs[i].addr - BASE_IOVA) / 4096);
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

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sleeps until due_ns in slices of at most 20 ms, as the addon's injector does. */
static void pace_until(double due_ns) {
  for (;;) {
    double now = now_ns();
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
  unsigned idev;
  setup(&idev);

  pthread_t th;
  double start = now_ns();
  if (pthread_create(&th, NULL, responder, NULL)) die("pthread_create");
  for (unsigned long i = 0; i < total; i++) {
    if (rate > 0) pace_until(start + (double)i * 1e9 / rate);
    struct iommu_test_cmd c = {.op = IOMMU_TEST_OP_TRIGGER_IOPF};
    c.trigger_iopf.dev_id = idev;
    c.trigger_iopf.grpid = (uint32_t)i;
    c.trigger_iopf.perm = IOMMU_PGFAULT_PERM_READ;
    c.trigger_iopf.addr = BASE_IOVA + i * 4096; /* unique: the responder finds the request by it */
    sent_ns[i] = now_ns();
    test_cmd(&c, "IOMMU_TEST_CMD(TRIGGER_IOPF)");
  }
  pthread_join(th, NULL);
  double seconds = (last_answer_ns - sent_ns[0]) / 1e9;

  qsort(lat_ns, total, sizeof(double), cmp_double);
  qsort(read_ns, total, sizeof(double), cmp_double);
  double p50 = lat_ns[total / 2] / 1e3, p99 = lat_ns[(total * 99) / 100] / 1e3;
  double rp50 = read_ns[total / 2] / 1e3, rp99 = read_ns[(total * 99) / 100] / 1e3;
  printf("{\"faults\":%lu,\"rate\":%.0f,\"seconds\":%.6f,\"faultsPerSec\":%.1f,\"p50Us\":%.3f,"
         "\"p99Us\":%.3f,\"readP50Us\":%.3f,\"readP99Us\":%.3f}\n",
         total, rate, seconds, total / seconds, p50, p99, rp50, rp99);
  return 0;
}
