// What one flush hands to JS, and the running totals (see FaultBatch and
// QueueTotals in main/node/native/addon-types.ts).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

enum AnsweredBy : uint8_t { kByUser = 0, kByPolicy = 1, kByDrain = 2, kByKernel = 3 };

struct AnsweredEntry {
  uint32_t cookie;
  uint8_t code;
  uint8_t by;
  int16_t rule;
  double latency_ns;
};

struct ErrorEntry {
  uint32_t cookie;
  int err;
  std::string op;
  std::string message;
};

struct Totals {
  uint64_t faults = 0, groups = 0, answered = 0, success = 0, invalid = 0, pending = 0,
           errors = 0, overflow = 0, malformed = 0, reads = 0;
};

struct Batch {
  std::vector<uint8_t> records;  // n * 40 bytes
  std::vector<double> read_ns;
  std::vector<AnsweredEntry> answered;
  std::vector<ErrorEntry> errors;
  uint64_t overflow = 0;
  uint64_t answered_overflow = 0;
  Totals totals;
  // Empty again, keeping the vectors' memory.
  void Clear() {
    records.clear();
    read_ns.clear();
    answered.clear();
    errors.clear();
    overflow = answered_overflow = 0;
    totals = Totals();
  }
  bool Empty() const {
    return records.empty() && answered.empty() && errors.empty() && overflow == 0 &&
           answered_overflow == 0;
  }
};
