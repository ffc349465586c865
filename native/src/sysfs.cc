// readSysfs / readSysfsAsync (see main/node/native/addon-types.ts).
//
// Why native: a topology scan reads ~15 small files per device; doing it in
// one call with openat() on a root dirfd avoids per-file JS promise/stat
// overhead and lets the I/O run off the event loop (readSysfsAsync). Raw
// contents only, with a per-entry error instead of an exception; decoding
// lives in TypeScript.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "addon_init.h"
#include "errors.h"

namespace {

constexpr size_t kDefaultMaxBytes = 65536;

// One entry's outcome: data (text/bytes/link target), names (dir), or an errno.
struct Item {
  int err = 0;
  const char* op = "";
  // Set when the entry was refused for its file type (err is EINVAL then).
  const char* refused = nullptr;
  std::string data;
  std::vector<std::string> names;
};

struct Job {
  std::string root;
  std::vector<std::string> files, binary, dirs, links;
  size_t maxBytes = kDefaultMaxBytes;
  int rootErr = 0;
  std::vector<Item> fileOut, binaryOut, dirOut, linkOut;
};

// Paths are relative to the root; leading slashes are dropped so that an
// absolute path cannot escape it by accident.
const char* Relative(const std::string& p) {
  const char* s = p.c_str();
  while (*s == '/') s++;
  return *s ? s : ".";
}

// Only regular files are read: a FIFO would block open() or read() forever
// (and the scan with it), a device like /dev/zero never ends. sysfs attributes
// are regular files. Links are followed (sysfs paths go through symlinks, and
// a link to a regular file is fine); the type is checked on the target before
// opening (so a device's open() side effects never run) and again on the
// open fd (O_NONBLOCK: even a FIFO swapped in between cannot block the open).
bool RefuseIrregular(mode_t mode, Item& out) {
  if (S_ISREG(mode)) return false;
  out.err = EINVAL;
  out.op = "open";
  out.refused = S_ISFIFO(mode)   ? "a FIFO"
                : S_ISCHR(mode)  ? "a character device"
                : S_ISBLK(mode)  ? "a block device"
                : S_ISSOCK(mode) ? "a socket"
                : S_ISDIR(mode)  ? "a directory"
                                 : "not a regular file";
  return true;
}

void ReadWhole(int rootFd, const std::string& path, size_t maxBytes, Item& out) {
  struct stat st;
  if (fstatat(rootFd, Relative(path), &st, 0) < 0) {
    out.err = errno;
    out.op = "open";
    return;
  }
  if (RefuseIrregular(st.st_mode, out)) return;
  int fd = openat(rootFd, Relative(path), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    out.err = errno;
    out.op = "open";
    return;
  }
  if (fstat(fd, &st) < 0 || RefuseIrregular(st.st_mode, out)) {
    if (!out.err) {
      out.err = errno;
      out.op = "fstat";
    }
    close(fd);
    return;
  }
  size_t chunk = maxBytes < 4096 ? maxBytes : 4096;
  std::string& buf = out.data;
  for (;;) {
    size_t have = buf.size();
    if (have >= maxBytes) break;
    size_t want = chunk < maxBytes - have ? chunk : maxBytes - have;
    buf.resize(have + want);
    ssize_t n = read(fd, &buf[have], want);
    if (n < 0) {
      if (errno == EINTR) {
        buf.resize(have);
        continue;
      }
      out.err = errno;
      out.op = "read";
      buf.clear();
      break;
    }
    buf.resize(have + static_cast<size_t>(n));
    // sysfs show() output and bin attributes come whole in one read, so a
    // short read is the end: this saves one read() per file.
    if (static_cast<size_t>(n) < want) break;
  }
  close(fd);
}

void ListDir(int rootFd, const std::string& path, Item& out) {
  int fd = openat(rootFd, Relative(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    out.err = errno;
    out.op = "opendir";
    return;
  }
  DIR* d = fdopendir(fd);
  if (!d) {
    out.err = errno;
    out.op = "opendir";
    close(fd);
    return;
  }
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      if (errno) {
        out.err = errno;
        out.op = "readdir";
        out.names.clear();
      }
      break;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    out.names.emplace_back(n);
  }
  closedir(d);
}

void ReadLink(int rootFd, const std::string& path, Item& out) {
  char buf[PATH_MAX];
  ssize_t n = readlinkat(rootFd, Relative(path), buf, sizeof buf);
  if (n < 0) {
    out.err = errno;
    out.op = "readlink";
    return;
  }
  out.data.assign(buf, static_cast<size_t>(n));
}

// The I/O half: no N-API calls, so it may run on a worker thread.
void RunJob(Job& job) {
  int rootFd = open(job.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) {
    job.rootErr = errno;
    return;
  }
  job.fileOut.resize(job.files.size());
  for (size_t i = 0; i < job.files.size(); i++)
    ReadWhole(rootFd, job.files[i], job.maxBytes, job.fileOut[i]);
  job.binaryOut.resize(job.binary.size());
  for (size_t i = 0; i < job.binary.size(); i++)
    ReadWhole(rootFd, job.binary[i], job.maxBytes, job.binaryOut[i]);
  job.dirOut.resize(job.dirs.size());
  for (size_t i = 0; i < job.dirs.size(); i++) ListDir(rootFd, job.dirs[i], job.dirOut[i]);
  job.linkOut.resize(job.links.size());
  for (size_t i = 0; i < job.links.size(); i++) ReadLink(rootFd, job.links[i], job.linkOut[i]);
  close(rootFd);
}

Napi::Object MakeError(Napi::Env env, int err, const std::string& what) {
  Napi::Object e = Napi::Object::New(env);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("message", Napi::String::New(env, what + ": " + strerror(err)));
  return e;
}

Napi::Value ErrorFor(Napi::Env env, const Item& it, const std::string& path) {
  if (it.refused) {
    Napi::Object e = MakeError(env, it.err, "");
    e.Set("message", Napi::String::New(env, path + " is " + it.refused +
                                                ", not a regular file: not read (sysfs "
                                                "attributes are regular files)"));
    return e;
  }
  return MakeError(env, it.err, std::string(it.op) + " " + path);
}

// The JS half: builds the result object parallel to the request arrays.
Napi::Value ToJs(Napi::Env env, const Job& job) {
  Napi::Object res = Napi::Object::New(env);
  Napi::Array files = Napi::Array::New(env, job.fileOut.size());
  for (size_t i = 0; i < job.fileOut.size(); i++) {
    const Item& it = job.fileOut[i];
    uint32_t k = static_cast<uint32_t>(i);
    if (it.err)
      files.Set(k, ErrorFor(env, it, job.files[i]));
    else
      files.Set(k, Napi::String::New(env, it.data.data(), it.data.size()));
  }
  Napi::Array binary = Napi::Array::New(env, job.binaryOut.size());
  for (size_t i = 0; i < job.binaryOut.size(); i++) {
    const Item& it = job.binaryOut[i];
    uint32_t k = static_cast<uint32_t>(i);
    if (it.err) {
      binary.Set(k, ErrorFor(env, it, job.binary[i]));
      continue;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, it.data.size());
    if (!it.data.empty()) memcpy(ab.Data(), it.data.data(), it.data.size());
    binary.Set(k, ab);
  }
  Napi::Array dirs = Napi::Array::New(env, job.dirOut.size());
  for (size_t i = 0; i < job.dirOut.size(); i++) {
    const Item& it = job.dirOut[i];
    uint32_t k = static_cast<uint32_t>(i);
    if (it.err) {
      dirs.Set(k, ErrorFor(env, it, job.dirs[i]));
      continue;
    }
    Napi::Array names = Napi::Array::New(env, it.names.size());
    for (size_t j = 0; j < it.names.size(); j++)
      names.Set(static_cast<uint32_t>(j), Napi::String::New(env, it.names[j]));
    dirs.Set(k, names);
  }
  Napi::Array links = Napi::Array::New(env, job.linkOut.size());
  for (size_t i = 0; i < job.linkOut.size(); i++) {
    const Item& it = job.linkOut[i];
    uint32_t k = static_cast<uint32_t>(i);
    if (it.err)
      links.Set(k, ErrorFor(env, it, job.links[i]));
    else
      links.Set(k, Napi::String::New(env, it.data));
  }
  res.Set("files", files);
  res.Set("binary", binary);
  res.Set("dirs", dirs);
  res.Set("links", links);
  return res;
}

bool StringList(Napi::Env env, Napi::Object req, const char* key, std::vector<std::string>& out) {
  Napi::Value v = req.Get(key);
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsArray()) {
    ThrowArgError(env, std::string("readSysfs: request.") + key + " must be an array of strings");
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) {
      ThrowArgError(env, std::string("readSysfs: request.") + key + "[" + std::to_string(i) +
                        "] is not a string");
      return false;
    }
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return true;
}

// Parses (root, request) into a job; false (with a JS exception set) on bad arguments.
bool ParseJob(const Napi::CallbackInfo& info, Job& job) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    ThrowArgError(env, "readSysfs(root: string, request: object) expected");
    return false;
  }
  job.root = info[0].As<Napi::String>().Utf8Value();
  Napi::Object req = info[1].As<Napi::Object>();
  if (!StringList(env, req, "files", job.files) || !StringList(env, req, "binary", job.binary) ||
      !StringList(env, req, "dirs", job.dirs) || !StringList(env, req, "links", job.links))
    return false;
  Napi::Value mb = req.Get("maxBytes");
  if (!mb.IsUndefined() && !mb.IsNull()) {
    if (!mb.IsNumber() || mb.As<Napi::Number>().DoubleValue() < 1 ||
        mb.As<Napi::Number>().DoubleValue() > (1 << 24)) {
      ThrowArgError(env, "readSysfs: request.maxBytes must be a number from 1 to 16777216");
      return false;
    }
    job.maxBytes = static_cast<size_t>(mb.As<Napi::Number>().DoubleValue());
  }
  return true;
}

Napi::Error RootError(Napi::Env env, const Job& job) {
  Napi::Error e = Napi::Error::New(env, std::string("readSysfs: cannot open root ") + job.root +
                                            ": " + strerror(job.rootErr));
  e.Set("code", Napi::String::New(env, ErrnoName(job.rootErr)));
  e.Set("errno", Napi::Number::New(env, job.rootErr));
  e.Set("syscall", Napi::String::New(env, "open " + job.root));
  return e;
}

Napi::Value ReadSysfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Job job;
  if (!ParseJob(info, job)) return env.Undefined();
  RunJob(job);
  if (job.rootErr) {
    RootError(env, job).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return ToJs(env, job);
}

class SysfsWorker : public Napi::AsyncWorker {
 public:
  SysfsWorker(Napi::Env env, Job&& job)
      : Napi::AsyncWorker(env, "iommuscope.readSysfs"), job_(std::move(job)), deferred_(env) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { RunJob(job_); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (job_.rootErr)
      deferred_.Reject(RootError(env, job_).Value());
    else
      deferred_.Resolve(ToJs(env, job_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ReadSysfsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Job job;
  if (!ParseJob(info, job)) return env.Undefined();
  SysfsWorker* w = new SysfsWorker(env, std::move(job));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitSysfs(Napi::Env env, Napi::Object exports) {
  exports.Set("readSysfs", Napi::Function::New(env, ReadSysfs, "readSysfs"));
  exports.Set("readSysfsAsync", Napi::Function::New(env, ReadSysfsAsync, "readSysfsAsync"));
}
