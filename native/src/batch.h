// What one fault-queue flush hands to JS, and the running totals (see
// FaultBatch and QueueTotals in main/node/native/addon-types.ts). Columns
// are kept as separate vectors so each becomes one typed array by memcpy.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "event_engine.h"

enum AnsweredBy : uint8_t { kByUser = 0, kByPolicy = 1, kByDrain = 2, kByKernel = 3 };

constexpr uint32_t kRecordsLeftOut = 0xffffffffu;  // FaultBatch.read.first

struct ErrorEntry {
  uint64_t seq;  // 0: not about one group
  bool has_cookie;
  uint32_t cookie;
  int err;
  std::string op;
  std::string message;
};

struct Totals {
  uint64_t faults = 0, groups = 0, answered = 0, success = 0, invalid = 0;
  uint64_t by[4] = {0, 0, 0, 0};  // indexed by AnsweredBy
  uint64_t pending = 0, errors = 0, overflow = 0, malformed = 0, reads = 0;
};

struct Batch : EngineBatch {
  uint32_t queue = 0;  // the queue's id
  // Groups read, in read order.
  std::vector<double> read_seq;
  std::vector<uint32_t> read_cookie, read_first, read_pages;
  std::vector<double> read_ns;
  std::vector<uint8_t> records;  // 40 bytes each
  // Groups answered.
  std::vector<double> ans_seq;
  std::vector<uint32_t> ans_cookie;
  std::vector<uint8_t> ans_code, ans_by;
  std::vector<int16_t> ans_rule;
  std::vector<double> ans_latency;
  std::vector<ErrorEntry> errors;
  uint64_t overflow = 0;
  Totals totals;

  size_t RecordCount() const { return records.size() / 40; }
  void ReserveReads(size_t more) {
    const size_t n = read_seq.size() + more;
    if (n <= read_seq.capacity()) return;
    const size_t cap = std::max(n, 2 * read_seq.capacity());  // geometric, as push_back
    read_seq.reserve(cap);
    read_cookie.reserve(cap);
    read_first.reserve(cap);
    read_pages.reserve(cap);
    read_ns.reserve(cap);
  }
  void Clear() {
    read_seq.clear();
    read_cookie.clear();
    read_first.clear();
    read_pages.clear();
    read_ns.clear();
    records.clear();
    ans_seq.clear();
    ans_cookie.clear();
    ans_code.clear();
    ans_by.clear();
    ans_rule.clear();
    ans_latency.clear();
    errors.clear();
    overflow = 0;
    totals = Totals();
  }
  bool Empty() const {
    return read_seq.empty() && ans_seq.empty() && errors.empty() && overflow == 0;
  }
};
