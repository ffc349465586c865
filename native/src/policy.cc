#include "policy.h"

#include <string>

#include "args.h"
#include "errors.h"

int MatchPolicy(const Policy& p, const GroupFacts& g, Action* out) {
  for (size_t i = 0; i < p.rules.size(); i++) {
    const Rule& r = p.rules[i];
    if (r.has_dev && r.dev != g.dev) continue;
    if (r.has_pasid && (!g.pasid_valid || g.pasid < r.pasid_min || g.pasid > r.pasid_max)) continue;
    if (g.addr_lo < r.addr_min || g.addr_hi > r.addr_max) continue;
    if ((g.perm & r.perm_all) != r.perm_all) continue;
    if (g.perm & r.perm_none) continue;
    *out = r.action;
    return static_cast<int>(i);
  }
  *out = p.fallback;
  return -1;
}

static bool ParseAction(Napi::Env env, Napi::Value v, const std::string& where, bool map_allowed,
                        Action* a) {
  if (!v.IsObject() || !v.As<Napi::Object>().Get("kind").IsString()) {
    ThrowArgError(env, where + " must be an object with kind 'hold' | 'success' | 'invalid' | "
                               "'delay' | 'map'");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  std::string kind = o.Get("kind").As<Napi::String>().Utf8Value();
  if (kind == "hold") {
    a->kind = ActionKind::Hold;
  } else if (kind == "success") {
    a->kind = ActionKind::Success;
  } else if (kind == "invalid") {
    a->kind = ActionKind::Invalid;
  } else if (kind == "delay") {
    a->kind = ActionKind::Delay;
    double ns = 0;
    uint32_t code = 0;
    if (!PropNumber(env, o, "ns", &ns, nullptr) || !PropU32(env, o, "code", &code, nullptr))
      return false;
    if (code > 1) {
      ThrowArgError(env, where + ".code must be 0 (success) or 1 (invalid)");
      return false;
    }
    a->delay_ns = static_cast<uint64_t>(ns);
    a->code = code;
  } else if (kind == "map") {
    if (!map_allowed) {
      ThrowArgError(env, where + " is 'map' but this queue has no iommufd/ioasId: pass both to "
                                 "createFaultQueue to enable mapping");
      return false;
    }
    a->kind = ActionKind::Map;
  } else {
    ThrowArgError(env, where + ".kind '" + kind +
                           "' is unknown: use hold, success, invalid, delay or map");
    return false;
  }
  return true;
}

static bool ParseRule(Napi::Env env, Napi::Value v, const std::string& where, bool map_allowed,
                      Rule* r) {
  if (!v.IsObject()) {
    ThrowArgError(env, where + " must be an object");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  bool has_min = false, has_max = false, has = false;
  if (!PropU32(env, o, "devId", &r->dev, &r->has_dev) ||
      !PropU32(env, o, "pasidMin", &r->pasid_min, &has_min) ||
      !PropU32(env, o, "pasidMax", &r->pasid_max, &has_max) ||
      !PropU64(env, o, "addrMin", &r->addr_min, &has) ||
      !PropU64(env, o, "addrMax", &r->addr_max, &has) ||
      !PropU32(env, o, "permAll", &r->perm_all, &has) ||
      !PropU32(env, o, "permNone", &r->perm_none, &has))
    return false;
  r->has_pasid = has_min || has_max;
  if (!has_min) r->pasid_min = 0;
  if (!has_max) r->pasid_max = 0xffffffff;
  if (r->pasid_min > r->pasid_max || r->addr_min > r->addr_max) {
    ThrowArgError(env, where + " has an empty range (min > max)");
    return false;
  }
  return ParseAction(env, o.Get("action"), where + ".action", map_allowed, &r->action);
}

bool ParsePolicy(Napi::Env env, Napi::Value v, bool map_allowed, Policy* out) {
  if (!v.IsObject() || !v.As<Napi::Object>().Get("rules").IsArray()) {
    ThrowArgError(env, "policy must be an object { rules: NativeRule[], fallback: NativeAction }");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  Napi::Array rules = o.Get("rules").As<Napi::Array>();
  if (rules.Length() > 32767) {
    ThrowArgError(env, "policy has too many rules (max 32767)");
    return false;
  }
  Policy p;
  p.rules.resize(rules.Length());
  for (uint32_t i = 0; i < rules.Length(); i++) {
    if (!ParseRule(env, rules.Get(i), "rules[" + std::to_string(i) + "]", map_allowed,
                   &p.rules[i]))
      return false;
  }
  if (!ParseAction(env, o.Get("fallback"), "policy.fallback", map_allowed, &p.fallback))
    return false;
  *out = std::move(p);
  return true;
}
