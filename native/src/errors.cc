#include "errors.h"

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
