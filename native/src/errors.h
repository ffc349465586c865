// NativeError: an Error with code = errno name, errno and syscall, as
// described in main/node/native/addon-types.ts; argument errors are
// TypeErrors with code 'EARG'. The addon is built without C++ exceptions:
// callers do `ThrowErrno(...); return ...;`.
#pragma once
#include <napi.h>

#include <string>

#include "errno_text.h"

// Throws NativeError for a failed syscall; `message` overrides the default text.
void ThrowErrno(Napi::Env env, int err, const std::string& syscall,
                const std::string& message = std::string());
void ThrowArgError(Napi::Env env, const std::string& message);
