#include "anon_memory.h"

#include <errno.h>
#include <sys/mman.h>

#include <mutex>
#include <vector>

#include "kernel_ioctls.h"

namespace {
struct AnonMapping {
  int iommufd;
  uint32_t ioas;
  uint64_t iova;
  uint64_t length;
  void* mem;
};
std::mutex g_mu;
std::vector<AnonMapping> g_maps;
}  // namespace

int AnonMapIntoIoas(int iommufd, uint32_t ioas, uint64_t length, uint64_t* iova, uint32_t flags) {
  void* mem = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return -errno;
  int rc = IoasMap(iommufd, ioas, reinterpret_cast<uint64_t>(mem), length, iova, flags);
  if (rc != 0) {
    munmap(mem, length);
    return rc;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_maps.push_back({iommufd, ioas, *iova, length, mem});
  return 0;
}

void AnonReleaseRange(int iommufd, uint32_t ioas, uint64_t iova, uint64_t length) {
  std::lock_guard<std::mutex> lock(g_mu);
  uint64_t end = iova + length;  // may wrap to 0 for "everything": handled below
  for (size_t i = 0; i < g_maps.size();) {
    AnonMapping& m = g_maps[i];
    bool inside = m.iova >= iova && (end == 0 || end < iova || m.iova + m.length <= end);
    if (m.iommufd == iommufd && m.ioas == ioas && inside) {
      munmap(m.mem, m.length);
      g_maps[i] = g_maps.back();
      g_maps.pop_back();
    } else {
      ++i;
    }
  }
}

void AnonReleaseFd(int iommufd) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (size_t i = 0; i < g_maps.size();) {
    if (g_maps[i].iommufd == iommufd) {
      munmap(g_maps[i].mem, g_maps[i].length);
      g_maps[i] = g_maps.back();
      g_maps.pop_back();
    } else {
      ++i;
    }
  }
}
