// Limits:
// - devices 1..65536: simulated device ids 1..K (the injector keeps one
//   group-id counter per device); the mock has exactly one device.
// - groupPages 1..2048: a page request group cannot hold more requests than
//   the device may have outstanding, and 2048 is the largest PRI allocation a
//   Linux IOMMU driver grants (VT-d: PRQ_DEPTH, a 64 KiB queue of 32-byte
//   requests); a 2048-page group is an 80 KiB read. The mock makes 1-page
//   groups only (TRIGGER_IOPF always sets LAST_PAGE).
// - rate 0 (as fast as the credit allows) or 1e-3..1e8 per second: below one
//   per 1000 s is a typo, above 1e8 the pacing clock cannot keep up anyway.
// - pasidMin..pasidMax within 0..0xfffff (PCIe PASIDs are 20 bits; 0 = none).
// - count 1..2^52 (every 4 KiB page of the 64-bit space; a double holds it
//   exactly), addr page-aligned and the last page still inside 64 bits.
// - perm within IOMMU_PGFAULT_PERM_* (0xf).
#include "inject_spec.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "errors.h"

namespace {

// The shortest text that reads back as d (what JS would print).
std::string Num(double d) {
  char b[64];
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(b, sizeof b, "%.*g", digits, d);
    if (strtod(b, nullptr) == d) break;
  }
  return b;
}

bool Fail(Napi::Env env, const std::string& msg) {
  ThrowArgError(env, "inject(spec): " + msg);
  return false;
}

// A required finite number property.
bool Number(Napi::Env env, Napi::Object o, const char* name, double* out) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return Fail(env, std::string("spec.") + name + " is required");
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
    return Fail(env, std::string("spec.") + name + " must be a finite number");
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

// A required whole number in lo..hi.
bool Whole(Napi::Env env, Napi::Object o, const char* name, double lo, double hi,
           const std::string& expect, double* out) {
  if (!Number(env, o, name, out)) return false;
  if (std::floor(*out) != *out || *out < lo || *out > hi)
    return Fail(env, std::string("spec.") + name + " must be " + expect + ", got " + Num(*out));
  return true;
}

bool U32(Napi::Env env, Napi::Object o, const char* name, uint32_t lo, uint32_t hi,
         const std::string& expect, uint32_t* out) {
  double d;
  if (!Whole(env, o, name, lo, hi, expect, &d)) return false;
  *out = uint32_t(d);
  return true;
}

bool Addr(Napi::Env env, Napi::Object o, uint64_t* out) {
  Napi::Value v = o.Get("addr");
  if (v.IsUndefined()) return Fail(env, "spec.addr is required");
  if (v.IsBigInt()) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) return Fail(env, "spec.addr must be a bigint in 0..2^64-1");
    return true;
  }
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d))
    return Fail(env, "spec.addr must be a bigint (or a safe non-negative integer)");
  *out = uint64_t(d);
  return true;
}

}  // namespace

bool ParseInjectSpec(Napi::Env env, Napi::Value spec, bool sim, InjectSpec* s) {
  if (!spec.IsObject()) return Fail(env, "spec must be an object (see InjectSpec)");
  Napi::Object o = spec.As<Napi::Object>();
  double count;
  if (!Whole(env, o, "count", 1, kInjectMaxCount,
             "a whole number in 1..2^52 (the 4 KiB pages of a 64-bit space)", &count))
    return false;
  s->count = uint64_t(count);
  if (!Number(env, o, "rate", &s->rate)) return false;
  if (s->rate != 0 && !(s->rate >= kInjectMinRate && s->rate <= kInjectMaxRate))
    return Fail(env, "spec.rate must be 0 (as fast as possible) or 1e-3..1e8 per second, got " +
                         Num(s->rate));
  const std::string pasids = "a whole number in 0..0xfffff (PCIe PASIDs are 20 bits; 0 = none)";
  if (!U32(env, o, "pasidMin", 0, kInjectMaxPasid, pasids, &s->pasid_min) ||
      !U32(env, o, "pasidMax", 0, kInjectMaxPasid, pasids, &s->pasid_max))
    return false;
  if (s->pasid_min > s->pasid_max)
    return Fail(env, "spec.pasidMin (" + std::to_string(s->pasid_min) +
                         ") must be <= spec.pasidMax (" + std::to_string(s->pasid_max) + ")");
  if (sim) {
    if (!U32(env, o, "devices", 1, kInjectMaxDevices, "a whole number in 1..65536", &s->devices) ||
        !U32(env, o, "groupPages", 1, kInjectMaxGroupPages,
             "a whole number in 1..2048 (the largest PRI allocation Linux grants a device)",
             &s->group_pages))
      return false;
  } else {
    if (!U32(env, o, "devices", 1, 1, "1 for the mock (it is one device; use the sim for more)",
             &s->devices) ||
        !U32(env, o, "groupPages", 1, 1,
             "1 for the mock (TRIGGER_IOPF makes one-page groups; use the sim for more)",
             &s->group_pages))
      return false;
  }
  if (!U32(env, o, "perm", 0, 0xf,
           "a whole number in 0..0xf (IOMMU_PGFAULT_PERM_READ|WRITE|EXEC|PRIV)", &s->perm))
    return false;
  if (!Addr(env, o, &s->addr)) return false;
  // Bench-only (bench/faults.ts): a ring of trigger times read back by injectTimes().
  if (!o.Get("captureTimes").IsUndefined() &&
      !U32(env, o, "captureTimes", 0, kInjectMaxCaptureTimes,
           "a whole number in 0..16777216 (slots of a bench-only ring of trigger times; 0: off)",
           &s->capture_times))
    return false;
  if (s->addr % kInjectPageSize != 0)
    return Fail(env, "spec.addr must be page-aligned (a multiple of 0x1000): page requests carry "
                     "page addresses");
  uint64_t pages_left = (UINT64_MAX - s->addr) / kInjectPageSize + 1;
  if (s->count > pages_left)
    return Fail(env, "spec.addr + spec.count pages runs past the 64-bit address space (at most " +
                         std::to_string(pages_left) + " pages from this addr)");
  return true;
}
