// A burst of IOMMU map/unmap pairs through iommufd on a VFIO device cdev,
// timed: the workload for the capture-cost measurement and the map/unmap
// rate test. Prints "map_burst: PAIRS pairs in NS ns".
//   map_burst /dev/vfio/devices/vfio0 PAIRS [SECONDS-BETWEEN-ROUNDS ROUNDS]
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef __counted_by
#define __counted_by(m)
#endif
#include <linux/iommufd.h>
#include <linux/vfio.h>

static int die(const char *what) {
  fprintf(stderr, "map_burst: %s: %s\n", what, strerror(errno));
  return 1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: map_burst VFIO-CDEV PAIRS [ROUNDS]\n");
    return 2;
  }
  long pairs = atol(argv[2]);
  int rounds = argc > 3 ? atoi(argv[3]) : 1;
  int iommufd = open("/dev/iommu", O_RDWR);
  if (iommufd < 0) return die("/dev/iommu");
  int dev = open(argv[1], O_RDWR);
  if (dev < 0) return die(argv[1]);
  struct vfio_device_bind_iommufd bind = {.argsz = sizeof bind, .iommufd = iommufd};
  if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind)) return die("VFIO_DEVICE_BIND_IOMMUFD");
  struct iommu_ioas_alloc alloc = {.size = sizeof alloc};
  if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) return die("IOMMU_IOAS_ALLOC");
  struct vfio_device_attach_iommufd_pt attach = {.argsz = sizeof attach, .pt_id = alloc.out_ioas_id};
  if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) return die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
  void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return die("mmap");
  memset(page, 0, 4096);
  for (int r = 0; r < rounds; r++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
      struct iommu_ioas_map map = {
          .size = sizeof map,
          .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
          .ioas_id = alloc.out_ioas_id,
          .user_va = (uintptr_t)page,
          .length = 4096,
          .iova = 0x100000,
      };
      if (ioctl(iommufd, IOMMU_IOAS_MAP, &map)) return die("IOMMU_IOAS_MAP");
      struct iommu_ioas_unmap unmap = {.size = sizeof unmap, .ioas_id = alloc.out_ioas_id, .iova = 0x100000, .length = 4096};
      if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap)) return die("IOMMU_IOAS_UNMAP");
    }
    printf("map_burst: %ld pairs in %llu ns\n", pairs, (unsigned long long)(now_ns() - t0));
    fflush(stdout);
  }
  return 0;
}
