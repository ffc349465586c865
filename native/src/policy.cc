// Evaluating a policy on a group: allocation-free, on the reader thread.
#include "policy.h"

namespace {

// A group's per-group facts, computed once for all the rules.
struct GroupView {
  const iommu_hwpt_pgfault* recs;
  size_t n;
  uint32_t perm;  // union of the records' permissions
};

GroupView ViewOf(const iommu_hwpt_pgfault* recs, size_t n) {
  uint32_t perm = 0;
  for (size_t i = 0; i < n; i++) perm |= recs[i].perm;
  return {recs, n, perm};
}

bool InRanges(const MatchRange* r, uint32_t count, uint64_t v) {
  for (uint32_t i = 0; i < count; i++)
    if (v >= r[i].lo && v <= r[i].hi) return true;
  return false;
}

// The one value of a per-group field; false when absent (pasid without PASID_VALID).
bool ScalarOf(const GroupView& g, MatchField f, uint64_t* v) {
  const iommu_hwpt_pgfault& first = g.recs[0];
  switch (f) {
    case MatchField::Dev:
      *v = first.dev_id;
      return true;
    case MatchField::Pasid:
      *v = first.pasid;
      return (first.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) != 0;
    case MatchField::Grpid:
      *v = first.grpid;
      return true;
    case MatchField::Cookie:
      *v = first.cookie;
      return true;
    case MatchField::Pages:
      *v = g.n;
      return true;
    case MatchField::Perm:
      *v = g.perm;
      return true;
    case MatchField::Addr:
      break;
  }
  return false;
}

bool Eval(const Match& m, const GroupView& g) {
  uint64_t stack = 0;  // top of stack in bit 0
  const MatchRange* ranges = m.ranges.data();
  for (const MatchStep& s : m.steps) {
    bool b = false;
    switch (s.op) {
      case MatchOp::True:
        b = true;
        break;
      case MatchOp::And:
      case MatchOp::Or: {
        bool x = stack & 1, y = (stack >> 1) & 1;
        stack >>= 2;
        b = s.op == MatchOp::And ? (x && y) : (x || y);
        break;
      }
      case MatchOp::Not:
        b = !(stack & 1);
        stack >>= 1;
        break;
      case MatchOp::Present:
        b = (g.recs[0].flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) != 0;
        break;
      case MatchOp::In:
        if (s.field == MatchField::Addr) {
          for (size_t i = 0; i < g.n && !b; i++)
            b = InRanges(ranges + s.first, s.count, g.recs[i].addr);
        } else {
          uint64_t v = 0;
          b = ScalarOf(g, s.field, &v) && InRanges(ranges + s.first, s.count, v);
        }
        break;
      case MatchOp::AllIn:  // addr only (checked when parsed)
        b = true;
        for (size_t i = 0; i < g.n && b; i++)
          b = InRanges(ranges + s.first, s.count, g.recs[i].addr);
        break;
      case MatchOp::Bits:
        b = (g.perm & s.mask) == s.want;
        break;
    }
    stack = (stack << 1) | (b ? 1 : 0);
  }
  return stack & 1;
}

}  // namespace

bool MatchGroup(const Match& m, const iommu_hwpt_pgfault* recs, size_t n) {
  return n > 0 && Eval(m, ViewOf(recs, n));
}

int MatchPolicy(const Policy& p, const iommu_hwpt_pgfault* recs, size_t n, Action* out) {
  if (n > 0 && !p.rules.empty()) {  // the common "answer everything alike" skips the view
    GroupView g = ViewOf(recs, n);
    for (size_t i = 0; i < p.rules.size(); i++) {
      if (!Eval(p.rules[i].match, g)) continue;
      *out = p.rules[i].action;
      return static_cast<int>(i);
    }
  }
  *out = p.fallback;
  return -1;
}
