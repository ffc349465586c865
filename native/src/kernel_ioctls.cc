#include "kernel_ioctls.h"

#include <errno.h>
#include <sys/ioctl.h>

#include "uapi.h"

int IoasMap(int iommufd, uint32_t ioas, uint64_t uva, uint64_t length, uint64_t* iova,
            uint32_t flags) {
  struct iommu_ioas_map m = {};
  m.size = sizeof m;
  m.flags = flags;
  m.ioas_id = ioas;
  m.user_va = uva;
  m.length = length;
  m.iova = *iova;
  if (ioctl(iommufd, IOMMU_IOAS_MAP, &m) != 0) return -errno;
  *iova = m.iova;
  return 0;
}

int IoasUnmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t length, uint64_t* unmapped) {
  struct iommu_ioas_unmap u = {};
  u.size = sizeof u;
  u.ioas_id = ioas;
  u.iova = iova;
  u.length = length;
  if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &u) != 0) return -errno;
  *unmapped = u.length;
  return 0;
}

int TriggerIopf(int iommufd, uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
                uint64_t addr) {
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_TRIGGER_IOPF;
  c.trigger_iopf.dev_id = dev;
  c.trigger_iopf.pasid = pasid;
  c.trigger_iopf.grpid = grpid;
  c.trigger_iopf.perm = perm;
  c.trigger_iopf.addr = addr;
  if (ioctl(iommufd, IOMMU_TEST_CMD, &c) != 0) return -errno;
  return 0;
}
