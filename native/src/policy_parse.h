// NativePolicy / NativeMatch objects from JS (addon-types.ts) into the
// core's Policy / Match (policy.h), checked once so evaluation needs none.
#pragma once
#include <napi.h>

#include "policy.h"

// Parse a NativeMatch object; throws TypeError EARG and returns false on bad input.
bool ParseMatch(Napi::Env env, Napi::Value v, Match* out);

// Parse a NativePolicy object; throws TypeError EARG and returns false on bad
// input. `map_allowed` is false when the queue has no iommufd/IOAS.
bool ParsePolicy(Napi::Env env, Napi::Value v, bool map_allowed, Policy* out);
