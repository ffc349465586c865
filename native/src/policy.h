// Automatic answers, evaluated natively on the reader thread: rules in
// order, first match wins, else the fallback.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

enum class ActionKind { Hold, Success, Invalid, Delay, Map };

struct Action {
  ActionKind kind = ActionKind::Hold;
  uint64_t delay_ns = 0;
  uint32_t code = 0;  // for Delay
};

struct Rule {
  bool has_dev = false;
  uint32_t dev = 0;
  bool has_pasid = false;  // a PASID range only matches groups with PASID_VALID
  uint32_t pasid_min = 0, pasid_max = 0xffffffff;
  uint64_t addr_min = 0, addr_max = UINT64_MAX;
  uint32_t perm_all = 0, perm_none = 0;
  Action action;
};

struct Policy {
  std::vector<Rule> rules;
  Action fallback;  // default: hold for the user
};

// What a group looks like to the matcher.
struct GroupFacts {
  uint32_t dev;
  bool pasid_valid;
  uint32_t pasid;
  uint64_t addr_lo, addr_hi;  // lowest and highest page address in the group
  uint32_t perm;              // union of the pages' permissions
};

// Returns the matching rule index, or -1 for the fallback.
int MatchPolicy(const Policy& p, const GroupFacts& g, Action* out);

// Parse a NativePolicy object; throws TypeError EARG and returns false on bad
// input. `map_allowed` is false when the queue has no iommufd/IOAS.
bool ParsePolicy(Napi::Env env, Napi::Value v, bool map_allowed, Policy* out);
