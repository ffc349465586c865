#include "errors.h"

#include <errno.h>
#include <string.h>

const char* ErrnoName(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
    E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EPIPE) E(ERANGE) E(EDEADLK)
    E(ENOSYS) E(ENOTEMPTY) E(ENODATA) E(EOVERFLOW) E(EOPNOTSUPP) E(EADDRINUSE) E(ETIMEDOUT)
    E(ECANCELED) E(ESTALE) E(EMSGSIZE) E(ENOSR) E(EDOM) E(EBADMSG) E(EPROTO) E(ENOLINK)
#undef E
    case 524:
      return "ENOTSUPP";  // kernel-internal, can leak from some ioctls
    default:
      return "EUNKNOWN";
  }
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

void ThrowPlainError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
}
