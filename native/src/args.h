// Argument checking for the JS entry points: each getter throws a TypeError
// with code 'EARG' naming the argument and returns false on bad input.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out);
bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name, int* out);
bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);

// Object properties; `present` (when given) tells whether an optional one was set.
bool PropU32(Napi::Env env, Napi::Object o, const char* name, uint32_t* out, bool* present);
bool PropU64(Napi::Env env, Napi::Object o, const char* name, uint64_t* out, bool* present);
bool PropNumber(Napi::Env env, Napi::Object o, const char* name, double* out, bool* present);

// Value conversions used by both.
bool ToU32(Napi::Env env, Napi::Value v, const std::string& what, uint32_t* out);
bool ToU64(Napi::Env env, Napi::Value v, const std::string& what, uint64_t* out);
