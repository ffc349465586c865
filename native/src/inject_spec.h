// inject(spec) arguments checked at the boundary: every field is range
// checked and an error names the field, what it got and what it accepts.
#pragma once
#include <napi.h>

#include "injector.h"

// Limits (why each is what it is: inject_spec.cc).
constexpr uint32_t kInjectMaxDevices = 65536;
constexpr uint32_t kInjectMaxGroupPages = 2048;
constexpr uint32_t kInjectMaxCaptureTimes = 1u << 24;  // bench-only trigger-time ring: 128 MiB at most
constexpr double kInjectMinRate = 1e-3;
constexpr double kInjectMaxRate = 1e8;
constexpr uint32_t kInjectMaxPasid = 0xfffff;
constexpr double kInjectMaxCount = 4503599627370496.0;  // 2^52: 4 KiB pages in 64 bits
constexpr uint64_t kInjectPageSize = 4096;

// sim: the simulator (several devices, multi-page groups); else the kernel's
// selftest mock device (one device, one-page groups). Throws EARG (TypeError)
// and returns false on bad input.
bool ParseInjectSpec(Napi::Env env, Napi::Value spec, bool sim, InjectSpec* out);
