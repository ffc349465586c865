// Anonymous memory the addon mmaps and maps into an IOAS (ioasMapAnon and the
// 'map' policy action). Owned here until the IOVA range is unmapped.
#pragma once
#include <cstdint>

// mmap `length` bytes, IOAS_MAP them; on success records the mapping and sets
// *iova. Returns 0 or -errno (memory freed on failure).
int AnonMapIntoIoas(int iommufd, uint32_t ioas, uint64_t length, uint64_t* iova, uint32_t flags);
// Forget and munmap every recorded mapping inside [iova, iova + length).
void AnonReleaseRange(int iommufd, uint32_t ioas, uint64_t iova, uint64_t length);
// Forget and munmap every mapping of an iommufd (on close).
void AnonReleaseFd(int iommufd);
