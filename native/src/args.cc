#include "args.h"

#include <cmath>

#include "errors.h"

bool ToU32(Napi::Env env, Napi::Value v, const std::string& what, uint32_t* out) {
  if (!v.IsNumber()) {
    ThrowArgError(env, what + " must be a number (an unsigned 32-bit integer)");
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d > 4294967295.0 || std::floor(d) != d) {
    ThrowArgError(env, what + " must be an unsigned 32-bit integer, got " + std::to_string(d));
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ToU64(Napi::Env env, Napi::Value v, const std::string& what, uint64_t* out) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      ThrowArgError(env, what + " must be a bigint in 0..2^64-1");
      return false;
    }
    *out = x;
    return true;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d) {
      *out = static_cast<uint64_t>(d);
      return true;
    }
  }
  ThrowArgError(env, what + " must be a bigint (or a safe non-negative integer)");
  return false;
}

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  return ToU32(info.Env(), info[i], std::string("argument ") + name, out);
}

bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name, int* out) {
  uint32_t v = 0;
  if (!ToU32(info.Env(), info[i], std::string("argument ") + name + " (a file descriptor)", &v))
    return false;
  if (v > 0x7fffffff) {
    ThrowArgError(info.Env(), std::string("argument ") + name + " is not a file descriptor");
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  return ToU64(info.Env(), info[i], std::string("argument ") + name, out);
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  if (!info[i].IsString()) {
    ThrowArgError(info.Env(), std::string("argument ") + name + " must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

static bool Lookup(Napi::Object o, const char* name, Napi::Value* v, bool* present) {
  *v = o.Get(name);
  bool has = !v->IsUndefined();
  if (present) *present = has;
  return has;
}

bool PropU32(Napi::Env env, Napi::Object o, const char* name, uint32_t* out, bool* present) {
  Napi::Value v;
  if (!Lookup(o, name, &v, present)) {
    if (present) return true;
    ThrowArgError(env, std::string("property ") + name + " is required");
    return false;
  }
  return ToU32(env, v, std::string("property ") + name, out);
}

bool PropU64(Napi::Env env, Napi::Object o, const char* name, uint64_t* out, bool* present) {
  Napi::Value v;
  if (!Lookup(o, name, &v, present)) {
    if (present) return true;
    ThrowArgError(env, std::string("property ") + name + " is required");
    return false;
  }
  return ToU64(env, v, std::string("property ") + name, out);
}

bool PropNumber(Napi::Env env, Napi::Object o, const char* name, double* out, bool* present) {
  Napi::Value v;
  if (!Lookup(o, name, &v, present)) {
    if (present) return true;
    ThrowArgError(env, std::string("property ") + name + " is required");
    return false;
  }
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()) ||
      v.As<Napi::Number>().DoubleValue() < 0) {
    ThrowArgError(env, std::string("property ") + name + " must be a finite number >= 0");
    return false;
  }
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}
