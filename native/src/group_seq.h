// Group identity: every group any fault queue reads gets the next number of
// one process-wide 64-bit counter (1, 2, 3 ...; never reused). Kernel cookies
// are data: the kernel reuses the lowest free one. A small ring remembers
// which queue the recent numbers went to, for clear ESTALE messages.
#pragma once
#include <cstdint>

// Reserves the next `count` sequence numbers for `queue` (one atomic add per
// read, not per group); returns the first. Record each with NoteGroupSeq.
uint64_t ReserveGroupSeqs(uint32_t count);
// Records that `seq` (reserved) went to `queue`.
void NoteGroupSeq(uint64_t seq, uint32_t queue);
// The last number issued (0 before the first).
uint64_t LastIssuedGroupSeq();
// The queue a recently issued number went to; 0 when it is not recent enough to tell.
uint32_t GroupSeqOwner(uint64_t seq);
// How many recent numbers GroupSeqOwner remembers.
constexpr uint64_t kGroupSeqOwnerRing = 1u << 16;
