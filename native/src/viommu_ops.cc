// The nested-translation objects of newer kernels (7.3; none of them exists
// in 6.12, whose iommufd answers their ioctl numbers with ENOTTY): vIOMMU,
// vDEVICE, vEVENTQ and HW queue, plus a plain non-blocking read of an event
// FD and a poll for it (the vEVENTQ reader engine will replace rawRead).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

#include "addon_init.h"
#include "args.h"
#include "errors.h"
#include "uapi.h"

namespace {

bool ObjectArg(const Napi::CallbackInfo& info, size_t i, const char* what, Napi::Object* out) {
  if (info.Length() <= i || !info[i].IsObject()) {
    ThrowArgError(info.Env(), std::string("argument args must be an object ") + what);
    return false;
  }
  *out = info[i].As<Napi::Object>();
  return true;
}

Napi::Value ViommuAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Object o;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ObjectArg(info, 1, "{devId, hwptId, type, data?}", &o))
    return env.Undefined();
  struct iommu_viommu_alloc a = {};
  a.size = sizeof a;
  if (!PropU32(env, o, "devId", &a.dev_id, nullptr) ||
      !PropU32(env, o, "hwptId", &a.hwpt_id, nullptr) || !PropU32(env, o, "type", &a.type, nullptr))
    return env.Undefined();
  // Driver data is in/out (the selftest echoes in_data and reports an mmap window).
  std::vector<uint8_t> data;
  Napi::Value dv = o.Get("data");
  if (!dv.IsUndefined()) {
    if (!dv.IsArrayBuffer()) {
      ThrowArgError(env, "property data must be an ArrayBuffer (e.g. struct iommu_viommu_selftest)");
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = dv.As<Napi::ArrayBuffer>();
    data.assign(static_cast<uint8_t*>(ab.Data()), static_cast<uint8_t*>(ab.Data()) + ab.ByteLength());
  }
  a.data_len = static_cast<uint32_t>(data.size());
  a.data_uptr = data.empty() ? 0 : reinterpret_cast<uint64_t>(data.data());
  if (ioctl(fd, IOMMU_VIOMMU_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_VIOMMU_ALLOC");
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("viommuId", Napi::Number::New(env, a.out_viommu_id));
  Napi::ArrayBuffer back = Napi::ArrayBuffer::New(env, data.size());
  if (!data.empty()) memcpy(back.Data(), data.data(), data.size());
  out.Set("data", back);
  return out;
}

Napi::Value VdeviceAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t viommu, dev;
  uint64_t virt;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "viommuId", &viommu) ||
      !ArgU32(info, 2, "devId", &dev) || !ArgU64(info, 3, "virtId", &virt))
    return env.Undefined();
  struct iommu_vdevice_alloc a = {};
  a.size = sizeof a;
  a.viommu_id = viommu;
  a.dev_id = dev;
  a.virt_id = virt;
  if (ioctl(fd, IOMMU_VDEVICE_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_VDEVICE_ALLOC");
    return env.Undefined();
  }
  return Napi::Number::New(env, a.out_vdevice_id);
}

Napi::Value VeventqAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t viommu, type, depth;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "viommuId", &viommu) ||
      !ArgU32(info, 2, "type", &type) || !ArgU32(info, 3, "depth", &depth))
    return env.Undefined();
  struct iommu_veventq_alloc a = {};
  a.size = sizeof a;
  a.viommu_id = viommu;
  a.type = type;
  a.veventq_depth = depth;
  if (ioctl(fd, IOMMU_VEVENTQ_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_VEVENTQ_ALLOC");
    return env.Undefined();
  }
  fcntl(static_cast<int>(a.out_veventq_fd), F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("veventqId", Napi::Number::New(env, a.out_veventq_id));
  out.Set("veventqFd", Napi::Number::New(env, a.out_veventq_fd));
  return out;
}

Napi::Value HwQueueAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Object o;
  if (!ArgFd(info, 0, "iommufd", &fd) ||
      !ObjectArg(info, 1, "{viommuId, type, index, iova, length}", &o))
    return env.Undefined();
  struct iommu_hw_queue_alloc a = {};
  a.size = sizeof a;
  uint64_t iova = 0, length = 0;
  if (!PropU32(env, o, "viommuId", &a.viommu_id, nullptr) ||
      !PropU32(env, o, "type", &a.type, nullptr) || !PropU32(env, o, "index", &a.index, nullptr) ||
      !PropU64(env, o, "iova", &iova, nullptr) || !PropU64(env, o, "length", &length, nullptr))
    return env.Undefined();
  a.nesting_parent_iova = iova;
  a.length = length;
  if (ioctl(fd, IOMMU_HW_QUEUE_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_HW_QUEUE_ALLOC");
    return env.Undefined();
  }
  return Napi::Number::New(env, a.out_hw_queue_id);
}

// One read(fd, maxBytes): the bytes the kernel returned (possibly none).
Napi::Value RawRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t max;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgU32(info, 1, "maxBytes", &max)) return env.Undefined();
  if (max > (1u << 24)) {
    ThrowArgError(env, "maxBytes must be at most 16 MiB");
    return env.Undefined();
  }
  std::vector<uint8_t> buf(max ? max : 1);
  ssize_t n = read(fd, buf.data(), max);
  if (n < 0) {
    ThrowErrno(env, errno, "read");
    return env.Undefined();
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, static_cast<size_t>(n));
  if (n) memcpy(ab.Data(), buf.data(), static_cast<size_t>(n));
  return ab;
}

// poll(fd, POLLIN, timeoutMs): true when readable.
Napi::Value PollIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ms;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgU32(info, 1, "timeoutMs", &ms)) return env.Undefined();
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  do rc = poll(&p, 1, static_cast<int>(ms));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    ThrowErrno(env, errno, "poll");
    return env.Undefined();
  }
  return Napi::Boolean::New(env, rc > 0 && (p.revents & POLLIN));
}

}  // namespace

void InitViommu(Napi::Env env, Napi::Object exports) {
  exports.Set("viommuAlloc", Napi::Function::New(env, ViommuAlloc, "viommuAlloc"));
  exports.Set("vdeviceAlloc", Napi::Function::New(env, VdeviceAlloc, "vdeviceAlloc"));
  exports.Set("veventqAlloc", Napi::Function::New(env, VeventqAlloc, "veventqAlloc"));
  exports.Set("hwQueueAlloc", Napi::Function::New(env, HwQueueAlloc, "hwQueueAlloc"));
  exports.Set("rawRead", Napi::Function::New(env, RawRead, "rawRead"));
  exports.Set("pollIn", Napi::Function::New(env, PollIn, "pollIn"));
}
