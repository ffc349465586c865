// Ids handed out like the fault FD's cookies: the kernel's xa_alloc() with
// xa_limit_32b on an XA_FLAGS_ALLOC1 xarray, always the lowest free id.
// ALLOC1 keeps id 0 busy with a placeholder (XA_ZERO_ENTRY at index 0 while
// the xarray has entries), and measured on 6.12 and 7.3
// (test/vm/fault-fd-conformance.test.ts) the placeholder is not sacred:
// - 0 is never handed out while the placeholder stands, also after the
//   xarray empties (all answered, or detach): it stays fresh;
// - answering cookie 0 while any group is read-but-unanswered fails EINVAL
//   yet xa_erase() removes the placeholder, and from then on 0 is handed
//   out like any other id (answering 0 while none is pending changes nothing).
// A bitmap: with lowest-free allocation the largest id ever in use is the
// peak number in use at once, so its size is bounded by that peak (the
// simulator's PRI credit).
#pragma once
#include <cstdint>
#include <vector>

class LowestFreeIds {
 public:
  // Marks the lowest free id in use; false when all 2^32 ids are (-EBUSY).
  bool Take(uint32_t* id) {
    size_t w = hint_;
    while (w < words_.size() && words_[w] == ~0ull) w++;
    if (w == words_.size()) {
      if (words_.size() * 64 >= (uint64_t(1) << 32)) return false;
      words_.push_back(0);
    }
    int bit = __builtin_ctzll(~words_[w]);
    words_[w] |= 1ull << bit;
    hint_ = w;
    in_use_++;
    *id = uint32_t(uint64_t(w) * 64 + uint64_t(bit));
    return true;
  }
  // Frees `id`; false when it was not in use (EINVAL), which for id 0 may
  // still remove the placeholder (see above).
  bool Release(uint32_t id) {
    if (id == 0 && zero_reserved_) {
      if (in_use_ > 0) {
        zero_reserved_ = false;
        words_[0] &= ~1ull;
        hint_ = 0;
      }
      return false;
    }
    if (!InUse(id)) return false;
    words_[id / 64] &= ~(1ull << (id % 64));
    if (id / 64 < hint_) hint_ = id / 64;
    if (--in_use_ == 0) Emptied();
    return true;
  }
  bool InUse(uint32_t id) const {
    if (id == 0 && zero_reserved_) return false;
    size_t w = id / 64;
    return w < words_.size() && (words_[w] >> (id % 64) & 1);
  }
  size_t Count() const { return in_use_; }
  // Every id in use, ascending.
  std::vector<uint32_t> List() const {
    std::vector<uint32_t> out;
    out.reserve(in_use_);
    for (size_t w = 0; w < words_.size(); w++) {
      uint64_t bits = words_[w];
      if (w == 0 && zero_reserved_) bits &= ~1ull;
      for (; bits; bits &= bits - 1)
        out.push_back(uint32_t(w * 64 + size_t(__builtin_ctzll(bits))));
    }
    return out;
  }
  // Frees every id (the kernel erasing every entry on detach; xa_for_each
  // skips the placeholder, so it stays).
  void Clear() {
    in_use_ = 0;
    Emptied();
  }
  bool ZeroReserved() const { return zero_reserved_; }
  // Bytes held, for the memory-bound tests.
  size_t Capacity() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  void Emptied() {
    words_.assign(1, zero_reserved_ ? 1 : 0);
    hint_ = 0;
  }
  std::vector<uint64_t> words_{1};  // bit i of word w: id w*64+i is in use
  size_t hint_ = 0;                 // no free id below word hint_
  size_t in_use_ = 0;
  bool zero_reserved_ = true;  // word 0 bit 0 is set but stands for no group
};
