#define _GNU_SOURCE
#include "mock_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "uapi.h"

static const char *prog_name;
static int iommufd = -1;

double mock_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s: %s\n", prog_name, what, strerror(errno));
  exit(1);
}

static void test_cmd(struct iommu_test_cmd *c, const char *what) {
  c->size = sizeof(*c);
  if (ioctl(iommufd, IOMMU_TEST_CMD, c)) die(what);
}

void mock_queue_open(struct mock_queue *q, const char *prog) {
  prog_name = prog;
  unsigned *idev = &q->idev;
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
  q->fault_fd = (int)fa.out_fault_fd;

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
  q->iommufd = iommufd;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

void mock_report(unsigned long total, double rate, double seconds, double *lat_ns,
                 double *read_ns) {
  qsort(lat_ns, total, sizeof(double), cmp_double);
  qsort(read_ns, total, sizeof(double), cmp_double);
  double p50 = lat_ns[total / 2] / 1e3, p99 = lat_ns[(total * 99) / 100] / 1e3;
  double rp50 = read_ns[total / 2] / 1e3, rp99 = read_ns[(total * 99) / 100] / 1e3;
  printf("{\"faults\":%lu,\"rate\":%.0f,\"seconds\":%.6f,\"faultsPerSec\":%.1f,\"p50Us\":%.3f,"
         "\"p99Us\":%.3f,\"readP50Us\":%.3f,\"readP99Us\":%.3f}\n",
         total, rate, seconds, total / seconds, p50, p99, rp50, rp99);
}
