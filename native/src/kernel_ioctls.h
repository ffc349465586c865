// Plain iommufd / VFIO / selftest ioctls, no N-API: usable from any thread
// (the reader's 'map' action and the injector call them off the JS thread).
// Each returns 0 on success or -errno.
#pragma once
#include <cstddef>
#include <cstdint>

int IoasMap(int iommufd, uint32_t ioas, uint64_t uva, uint64_t length, uint64_t* iova,
            uint32_t flags);
int IoasUnmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t length, uint64_t* unmapped);
int TriggerIopf(int iommufd, uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
                uint64_t addr);
