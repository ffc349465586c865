// The groups a fault queue has read and not yet answered, keyed by group
// sequence number, oldest first, with a cookie index for writes and for
// spotting the kernel's reuse of a cookie. Entries and records live in
// deques (block-allocated, no per-group heap allocation); answered entries
// leave a tombstone that Compact() pops from the front or squeezes out.
// References to entries stay valid until Compact(): call it after each batch of work.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "uapi.h"

struct PendingEntry {
  uint64_t seq;
  double read_ns;
  uint64_t rec;  // absolute index of the first record in the table's record store
  uint32_t cookie, dev, pasid, grpid, pages;
  bool live;
  bool delayed;  // a delay action will answer it
  bool claimed;  // in the answer write under way (catches a group asked twice)
};

// cookie -> seq, open addressing with linear probing and backward-shift
// deletion: O(1), one flat array. Cookie 0 is not a kernel cookie; it is
// the empty-slot marker, and a group with cookie 0 is simply not indexed.
class CookieIndex {
 public:
  CookieIndex();
  uint64_t Find(uint32_t cookie) const;  // 0 when absent
  void Put(uint32_t cookie, uint64_t seq);
  void Erase(uint32_t cookie);
  void Clear();

 private:
  struct Slot {
    uint32_t cookie;
    uint64_t seq;
  };
  size_t Home(uint32_t cookie) const { return (cookie * 0x9E3779B1u) & (slots_.size() - 1); }
  void Grow();
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

class PendingTable {
 public:
  PendingEntry& Insert(uint64_t seq, const iommu_hwpt_pgfault* recs, uint32_t n, double read_ns);
  PendingEntry* Find(uint64_t seq);
  PendingEntry* FindCookie(uint32_t cookie);
  void Erase(PendingEntry& e);  // the entry becomes a tombstone
  void Compact();  // drops tombstones at the front; all of them once they outnumber live entries
  size_t size() const { return live_; }
  void CopyRecords(const PendingEntry& e, iommu_hwpt_pgfault* out) const;
  template <typename F>
  void ForEach(F f) {
    for (PendingEntry& e : entries_)
      if (e.live) f(e);
  }

 private:
  void PopAnswered();
  std::deque<PendingEntry> entries_;  // seq order
  std::deque<iommu_hwpt_pgfault> recs_;
  uint64_t rec_base_ = 0;  // absolute index of recs_.front()
  size_t live_ = 0;
  CookieIndex cookies_;
};
