/*
 * The iommufd selftest mock fault queue both reference loops answer on
 * (c_fault_loop.c, core_mock_loop.cc), set up as the kernel selftest does and
 * as bench/faults-mock.ts does for the pipeline, plus their shared report.
 */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOCK_BASE_IOVA 0x2000000ull /* inside the mock aperture */

struct mock_queue {
  int iommufd;
  int fault_fd;
  unsigned idev; /* the mock device's iommufd device id (TRIGGER_IOPF dev_id) */
};

/* IOAS_ALLOC, MOCK_DOMAIN, HWPT_ALLOC(NEST_PARENT), FAULT_QUEUE_ALLOC, a nested
 * HWPT (data_type IOMMU_HWPT_DATA_SELFTEST, FAULT_ID_VALID, iotlb =
 * IOMMU_TEST_IOTLB_DEFAULT), MOCK_DOMAIN_REPLACE. Exits with `prog: step:
 * error` on stderr when a step fails. */
void mock_queue_open(struct mock_queue *q, const char *prog);

double mock_now_ns(void); /* CLOCK_MONOTONIC */

/* Prints {faults, rate, seconds, faultsPerSec, p50Us, p99Us, readP50Us,
 * readP99Us}; sorts lat_ns and read_ns (per request, ns). */
void mock_report(unsigned long total, double rate, double seconds, double *lat_ns,
                 double *read_ns);

#ifdef __cplusplus
}
#endif
