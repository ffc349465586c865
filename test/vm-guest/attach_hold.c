// Binds a VFIO device cdev to iommufd, attaches it to a fresh IOAS, maps
// one page at each IOVA given, then runs COMMAND while the domain exists
// (so Intel debugfs shows the device's PASID table and page tables) and
// exits with COMMAND's status.
//   attach_hold VFIO-CDEV IOVA[,IOVA...] -- COMMAND [ARGS...]
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __counted_by
#define __counted_by(m)
#endif
#include <linux/iommufd.h>
#include <linux/vfio.h>

static int die(const char *what) {
  fprintf(stderr, "attach_hold: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: attach_hold VFIO-CDEV IOVA[,IOVA...] -- COMMAND [ARGS...]\n");
    return 2;
  }
  int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);  // COMMAND must not keep the attach
  if (iommufd < 0) return die("/dev/iommu");
  int dev = open(argv[1], O_RDWR | O_CLOEXEC);
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
  for (char *s = argv[2]; *s;) {
    char *end;
    uint64_t iova = strtoull(s, &end, 0);
    if (end == s || (*end && *end != ',')) {
      fprintf(stderr, "attach_hold: bad IOVA list '%s'\n", argv[2]);
      return 2;
    }
    struct iommu_ioas_map map = {
        .size = sizeof map,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
        .ioas_id = alloc.out_ioas_id,
        .user_va = (uintptr_t)page,
        .length = 4096,
        .iova = iova,
    };
    if (ioctl(iommufd, IOMMU_IOAS_MAP, &map)) return die("IOMMU_IOAS_MAP");
    s = *end ? end + 1 : end;
  }
  printf("attach_hold: %s attached to IOAS %u, hwpt %u\n", argv[1], alloc.out_ioas_id, attach.pt_id);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return die("fork");
  if (pid == 0) {
    execvp(argv[4], argv + 4);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
