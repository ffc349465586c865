#include "errors.h"

#include <errno.h>
#include <string.h>

const char* ErrnoName(int err) {
  if (err == 524) return "ENOTSUPP";  // kernel-internal, can leak from some ioctls
  const char* name = strerrorname_np(err);  // glibc 2.32+
  return name ? name : "EUNKNOWN";
}

std::string ErrnoText(int err) {
  char buf[128];
  const char* text = strerror_r(err, buf, sizeof buf);  // GNU variant
  return std::string(ErrnoName(err)) + " (" + text + ")";
}

void ThrowErrno(Napi::Env env, int err, const std::string& syscall, const std::string& message) {
  std::string msg = message.empty() ? syscall + " failed: " + ErrnoText(err) : message;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

void ThrowArgError(Napi::Env env, const std::string& message) {
  Napi::TypeError e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, "EARG"));
  e.ThrowAsJavaScriptException();
}
