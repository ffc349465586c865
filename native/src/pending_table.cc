#include "pending_table.h"

#include <algorithm>

CookieIndex::CookieIndex() : slots_(1024, Slot{0, 0}) {}

uint64_t CookieIndex::Find(uint32_t cookie) const {
  if (cookie == 0) return 0;
  for (size_t i = Home(cookie);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].cookie == cookie) return slots_[i].seq;
    if (slots_[i].cookie == 0) return 0;
  }
}

void CookieIndex::Put(uint32_t cookie, uint64_t seq) {
  if (cookie == 0) return;
  if ((used_ + 1) * 2 > slots_.size()) Grow();
  for (size_t i = Home(cookie);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].cookie == cookie) {
      slots_[i].seq = seq;
      return;
    }
    if (slots_[i].cookie == 0) {
      slots_[i] = {cookie, seq};
      used_++;
      return;
    }
  }
}

void CookieIndex::Erase(uint32_t cookie) {
  if (cookie == 0) return;
  const size_t mask = slots_.size() - 1;
  size_t i = Home(cookie);
  while (slots_[i].cookie != cookie) {
    if (slots_[i].cookie == 0) return;
    i = (i + 1) & mask;
  }
  // Backward shift: move later entries of the probe run into the hole.
  for (size_t j = (i + 1) & mask; slots_[j].cookie != 0; j = (j + 1) & mask) {
    size_t home = Home(slots_[j].cookie);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = {0, 0};
  used_--;
}

void CookieIndex::Clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{0, 0});
  used_ = 0;
}

void CookieIndex::Grow() {
  std::vector<Slot> old(slots_.size() * 2, Slot{0, 0});
  old.swap(slots_);
  used_ = 0;
  for (const Slot& s : old)
    if (s.cookie) Put(s.cookie, s.seq);
}

PendingEntry& PendingTable::Insert(uint64_t seq, const iommu_hwpt_pgfault* recs, uint32_t n,
                                   double read_ns) {
  const iommu_hwpt_pgfault& r = recs[0];
  PendingEntry e;
  e.seq = seq;
  e.read_ns = read_ns;
  e.rec = rec_base_ + recs_.size();
  e.cookie = r.cookie;
  e.dev = r.dev_id;
  e.pasid = (r.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) ? r.pasid : 0xffffffffu;
  e.grpid = r.grpid;
  e.pages = n;
  e.live = true;
  e.delayed = false;
  e.claimed = false;
  recs_.insert(recs_.end(), recs, recs + n);
  entries_.push_back(e);
  live_++;
  cookies_.Put(r.cookie, seq);
  return entries_.back();
}

PendingEntry* PendingTable::Find(uint64_t seq) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const PendingEntry& e, uint64_t s) { return e.seq < s; });
  if (it == entries_.end() || it->seq != seq || !it->live) return nullptr;
  return &*it;
}

PendingEntry* PendingTable::FindCookie(uint32_t cookie) {
  uint64_t seq = cookies_.Find(cookie);
  return seq ? Find(seq) : nullptr;
}

void PendingTable::Erase(PendingEntry& e) {
  if (!e.live) return;
  e.live = false;
  live_--;
  if (cookies_.Find(e.cookie) == e.seq) cookies_.Erase(e.cookie);
}

void PendingTable::PopAnswered() {
  while (!entries_.empty() && !entries_.front().live) {
    entries_.pop_front();
    uint64_t next = entries_.empty() ? rec_base_ + recs_.size() : entries_.front().rec;
    recs_.erase(recs_.begin(), recs_.begin() + (next - rec_base_));
    rec_base_ = next;
  }
}

void PendingTable::Compact() {
  PopAnswered();
  size_t dead = entries_.size() - live_;
  if (dead < 4096 || dead < live_) return;
  std::deque<PendingEntry> entries;
  std::deque<iommu_hwpt_pgfault> recs;
  for (PendingEntry& e : entries_) {
    if (!e.live) continue;
    auto from = recs_.begin() + (e.rec - rec_base_);
    e.rec = recs.size();
    recs.insert(recs.end(), from, from + e.pages);
    entries.push_back(e);
  }
  entries_.swap(entries);
  recs_.swap(recs);
  rec_base_ = 0;
}

void PendingTable::CopyRecords(const PendingEntry& e, iommu_hwpt_pgfault* out) const {
  auto from = recs_.begin() + (e.rec - rec_base_);
  std::copy(from, from + e.pages, out);
}
