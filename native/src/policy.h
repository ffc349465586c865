// Automatic answers, evaluated natively on the reader thread: rules in
// order, first match wins, else the fallback. A rule's match is a postfix
// program compiled from the filter language (main/node/native/compile-match.ts,
// NativeMatch in addon-types.ts); evaluating it allocates nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "uapi.h"

enum class ActionKind { Hold, Success, Invalid, Delay, Map };

struct Action {
  ActionKind kind = ActionKind::Hold;
  uint64_t delay_ns = 0;
  uint32_t code = 0;  // for Delay
};

enum class MatchField : uint8_t { Dev, Pasid, Grpid, Cookie, Addr, Pages, Perm };
enum class MatchOp : uint8_t { True, And, Or, Not, Present, In, AllIn, Bits };

struct MatchStep {
  MatchOp op = MatchOp::True;
  MatchField field = MatchField::Dev;
  uint32_t first = 0, count = 0;  // In/AllIn: ranges[first, first + count)
  uint32_t mask = 0, want = 0;    // Bits
};

struct MatchRange {
  uint64_t lo, hi;  // inclusive
};

struct Match {
  std::vector<MatchStep> steps;
  std::vector<MatchRange> ranges;
};

// The stack is a 64-bit word: deeper programs are refused when parsed.
constexpr size_t kMatchMaxDepth = 64;

struct Rule {
  Match match;
  Action action;
};

struct Policy {
  std::vector<Rule> rules;
  Action fallback;  // default: hold for the user
};

// Does the group (its records, n >= 1) match? dev/pasid/grpid/cookie come
// from the first record, perm is the union, addr tests look at every record.
bool MatchGroup(const Match& m, const iommu_hwpt_pgfault* recs, size_t n);

// Returns the matching rule index, or -1 for the fallback.
int MatchPolicy(const Policy& p, const iommu_hwpt_pgfault* recs, size_t n, Action* out);
