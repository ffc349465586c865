#include "group_seq.h"

#include <atomic>

namespace {
std::atomic<uint64_t> g_next_seq{1};
// seq << 16 | (queue & 0xffff): one store per group, no lock.
std::atomic<uint64_t> g_owner[kGroupSeqOwnerRing];
constexpr uint64_t kQueueMask = 0xffff;
}  // namespace

uint64_t ReserveGroupSeqs(uint32_t count) {
  return g_next_seq.fetch_add(count, std::memory_order_relaxed);
}

void NoteGroupSeq(uint64_t seq, uint32_t queue) {
  g_owner[seq & (kGroupSeqOwnerRing - 1)].store(seq << 16 | (queue & kQueueMask),
                                                std::memory_order_relaxed);
}

uint64_t LastIssuedGroupSeq() { return g_next_seq.load(std::memory_order_relaxed) - 1; }

uint32_t GroupSeqOwner(uint64_t seq) {
  uint64_t v = g_owner[seq & (kGroupSeqOwnerRing - 1)].load(std::memory_order_relaxed);
  return (v >> 16) == seq ? uint32_t(v & kQueueMask) : 0;
}
