#include "policy_parse.h"

#include <stdio.h>

#include <string>

#include "args.h"
#include "errors.h"

static bool ParseField(Napi::Env env, Napi::Value v, const std::string& where, MatchField* f) {
  static const struct {
    const char* name;
    MatchField field;
  } kFields[] = {{"dev", MatchField::Dev},     {"pasid", MatchField::Pasid},
                 {"grpid", MatchField::Grpid}, {"cookie", MatchField::Cookie},
                 {"addr", MatchField::Addr},   {"pages", MatchField::Pages},
                 {"perm", MatchField::Perm}};
  std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  for (const auto& k : kFields) {
    if (name == k.name) {
      *f = k.field;
      return true;
    }
  }
  ThrowArgError(env, where + ".field must be one of dev, pasid, grpid, cookie, addr, pages, perm"
                             " (the fields known when a group is read)");
  return false;
}

static bool ParseRanges(Napi::Env env, Napi::Value v, const std::string& where, Match* m,
                        MatchStep* s) {
  if (!v.IsArray()) {
    ThrowArgError(env, where + ".ranges must be an array of [lo, hi] pairs");
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  if (m->ranges.size() + a.Length() > 65536) {
    ThrowArgError(env, where + ": a match may hold at most 65536 ranges");
    return false;
  }
  s->first = static_cast<uint32_t>(m->ranges.size());
  s->count = a.Length();
  for (uint32_t i = 0; i < a.Length(); i++) {
    std::string at = where + ".ranges[" + std::to_string(i) + "]";
    Napi::Value pair = a.Get(i);
    if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2) {
      ThrowArgError(env, at + " must be a [lo, hi] pair");
      return false;
    }
    MatchRange r{};
    if (!ToU64(env, pair.As<Napi::Array>().Get(0u), at + "[0]", &r.lo) ||
        !ToU64(env, pair.As<Napi::Array>().Get(1u), at + "[1]", &r.hi))
      return false;
    if (r.lo > r.hi) {
      ThrowArgError(env, at + " is empty (lo > hi)");
      return false;
    }
    m->ranges.push_back(r);
  }
  return true;
}

static bool ParseStep(Napi::Env env, Napi::Value v, const std::string& where, Match* m,
                      MatchStep* s) {
  if (!v.IsObject() || !v.As<Napi::Object>().Get("op").IsString()) {
    ThrowArgError(env, where + " must be an object with op 'true' | 'and' | 'or' | 'not' | "
                               "'present' | 'in' | 'bits'");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  std::string op = o.Get("op").As<Napi::String>().Utf8Value();
  if (op == "true") {
    s->op = MatchOp::True;
  } else if (op == "and") {
    s->op = MatchOp::And;
  } else if (op == "or") {
    s->op = MatchOp::Or;
  } else if (op == "not") {
    s->op = MatchOp::Not;
  } else if (op == "present") {
    s->op = MatchOp::Present;
    if (!ParseField(env, o.Get("field"), where, &s->field)) return false;
    if (s->field != MatchField::Pasid) {
      ThrowArgError(env, where + ": 'present' applies to pasid only");
      return false;
    }
  } else if (op == "in") {
    if (!ParseField(env, o.Get("field"), where, &s->field)) return false;
    Napi::Value all = o.Get("all");
    bool is_all = all.IsBoolean() && all.As<Napi::Boolean>().Value();
    if (is_all && s->field != MatchField::Addr) {
      ThrowArgError(env, where + ": 'all' applies to addr only");
      return false;
    }
    s->op = is_all ? MatchOp::AllIn : MatchOp::In;
    if (!ParseRanges(env, o.Get("ranges"), where, m, s)) return false;
  } else if (op == "bits") {
    s->op = MatchOp::Bits;
    if (!PropU32(env, o, "mask", &s->mask, nullptr) || !PropU32(env, o, "want", &s->want, nullptr))
      return false;
  } else {
    ThrowArgError(env, where + ".op '" + op +
                           "' is unknown: use true, and, or, not, present, in or bits");
    return false;
  }
  return true;
}

bool ParseMatch(Napi::Env env, Napi::Value v, Match* out) {
  if (!v.IsObject() || !v.As<Napi::Object>().Get("ops").IsArray()) {
    ThrowArgError(env, "match must be an object { ops: NativeMatchOp[] }");
    return false;
  }
  Napi::Array ops = v.As<Napi::Object>().Get("ops").As<Napi::Array>();
  if (ops.Length() == 0 || ops.Length() > 65536) {
    ThrowArgError(env, "match.ops must hold 1 to 65536 steps");
    return false;
  }
  Match m;
  m.steps.resize(ops.Length());
  size_t depth = 0;
  for (uint32_t i = 0; i < ops.Length(); i++) {
    std::string where = "match.ops[" + std::to_string(i) + "]";
    MatchStep& s = m.steps[i];
    if (!ParseStep(env, ops.Get(i), where, &m, &s)) return false;
    // Check the stack discipline here, so evaluation needs no checks.
    size_t pops = s.op == MatchOp::And || s.op == MatchOp::Or ? 2 : s.op == MatchOp::Not ? 1 : 0;
    if (depth < pops) {
      ThrowArgError(env, where + " pops " + std::to_string(pops) + " but only " +
                             std::to_string(depth) + " results come before it");
      return false;
    }
    depth = depth - pops + 1;
    if (depth > kMatchMaxDepth) {
      ThrowArgError(env, "match nests deeper than " + std::to_string(kMatchMaxDepth) +
                             " (simplify the filter)");
      return false;
    }
  }
  if (depth != 1) {
    ThrowArgError(env, "match.ops leaves " + std::to_string(depth) +
                           " results: a program must leave exactly one (join them with and/or)");
    return false;
  }
  *out = std::move(m);
  return true;
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
    // Checked before the cast: a double past 2^64 (1e300) or NaN casts to
    // anything (0 on x86: answered at once). 60 s is the policy grammar's limit.
    if (!(ns >= 0 && ns <= 60e9)) {
      char got[32];
      snprintf(got, sizeof got, "%g", ns);
      ThrowArgError(env, where + ".ns must be 0..60e9 (at most 60 s), got " + got);
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
    ThrowArgError(env, where + " must be an object { match: NativeMatch, action: NativeAction }");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  if (!ParseMatch(env, o.Get("match"), &r->match)) {
    // Name the rule in the message ParseMatch threw.
    Napi::Error e = env.GetAndClearPendingException();
    ThrowArgError(env, where + "." + e.Message());
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
