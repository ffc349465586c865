// iommufd entry points: open, hw info, IOAS, HWPT, fault queue, destroy.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

#include "addon_init.h"
#include "anon_memory.h"
#include "args.h"
#include "errors.h"
#include "kernel_ioctls.h"
#include "uapi.h"

namespace {

Napi::Value OpenIommufd(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return info.Env().Undefined();
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    // Facts only; the core (main/node/errors.ts) says what it means and the fix.
    int err = errno;
    ThrowErrno(info.Env(), err, "open " + path, "open " + path + ": " + ErrnoText(err));
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, "fd", &fd)) return info.Env().Undefined();
  if (close(fd) != 0) {
    ThrowErrno(info.Env(), errno, "close");
    return info.Env().Undefined();
  }
  AnonReleaseFd(fd);  // the kernel dropped its pins with the iommufd
  return info.Env().Undefined();
}

Napi::Value GetHwInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t dev;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "devId", &dev)) return env.Undefined();
  // Optional input type (7.3's IOMMU_HW_INFO_FLAG_INPUT_TYPE; 6.12 refuses the flag).
  bool hasType = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull();
  uint32_t inType = 0;
  if (hasType && !ArgU32(info, 2, "inDataType", &inType)) return env.Undefined();
  std::vector<uint8_t> data(256);
  struct iommu_hw_info h = {};
  h.size = sizeof h;
  h.dev_id = dev;
  if (hasType) {
    h.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    h.in_data_type = inType;
  }
  h.data_len = static_cast<uint32_t>(data.size());
  h.data_uptr = reinterpret_cast<uint64_t>(data.data());
  if (ioctl(fd, IOMMU_GET_HW_INFO, &h) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_GET_HW_INFO");
    return env.Undefined();
  }
  size_t len = h.data_len < data.size() ? h.data_len : data.size();
  Napi::Object out = Napi::Object::New(env);
  out.Set("dataType", Napi::Number::New(env, h.out_data_type));
  out.Set("dataLen", Napi::Number::New(env, h.data_len));  // what the kernel filled
  out.Set("maxPasidLog2", Napi::Number::New(env, h.out_max_pasid_log2));
  out.Set("capabilities", Napi::BigInt::New(env, static_cast<uint64_t>(h.out_capabilities)));
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, len);
  if (len) memcpy(ab.Data(), data.data(), len);
  out.Set("data", ab);
  return out;
}

Napi::Value IoasAlloc(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, "iommufd", &fd)) return info.Env().Undefined();
  struct iommu_ioas_alloc a = {};
  a.size = sizeof a;
  if (ioctl(fd, IOMMU_IOAS_ALLOC, &a) != 0) {
    ThrowErrno(info.Env(), errno, "ioctl IOMMU_IOAS_ALLOC");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), a.out_ioas_id);
}

Napi::Value IoasMapAnon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ioas, flags;
  uint64_t length, iova = 0;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "ioasId", &ioas) ||
      !ArgU64(info, 2, "length", &length))
    return env.Undefined();
  bool fixed = !info[3].IsNull() && !info[3].IsUndefined();
  if (fixed && !ArgU64(info, 3, "iova", &iova)) return env.Undefined();
  if (!ArgU32(info, 4, "flags", &flags)) return env.Undefined();
  if (length == 0 || length % 4096 != 0) {
    ThrowArgError(env, "length must be a non-zero multiple of the 4096-byte page size");
    return env.Undefined();
  }
  if (fixed) flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
  else flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
  int rc = AnonMapIntoIoas(fd, ioas, length, &iova, flags);
  if (rc != 0) {
    ThrowErrno(env, -rc, rc == -ENOMEM ? "mmap/ioctl IOMMU_IOAS_MAP" : "ioctl IOMMU_IOAS_MAP");
    return env.Undefined();
  }
  return Napi::BigInt::New(env, iova);
}

Napi::Value IoasUnmapJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ioas;
  uint64_t iova, length, unmapped = 0;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "ioasId", &ioas) ||
      !ArgU64(info, 2, "iova", &iova) || !ArgU64(info, 3, "length", &length))
    return env.Undefined();
  int rc = IoasUnmap(fd, ioas, iova, length, &unmapped);
  if (rc != 0) {
    ThrowErrno(env, -rc, "ioctl IOMMU_IOAS_UNMAP");
    return env.Undefined();
  }
  AnonReleaseRange(fd, ioas, iova, length);
  return Napi::BigInt::New(env, unmapped);
}

Napi::Value IoasIovaRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ioas;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "ioasId", &ioas)) return env.Undefined();
  std::vector<struct iommu_iova_range> ranges(8);
  struct iommu_ioas_iova_ranges r = {};
  for (int attempt = 0;; attempt++) {
    r = {};
    r.size = sizeof r;
    r.ioas_id = ioas;
    r.num_iovas = static_cast<uint32_t>(ranges.size());
    r.allowed_iovas = reinterpret_cast<uint64_t>(ranges.data());
    if (ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r) == 0) break;
    // EMSGSIZE: num_iovas now holds how many there are; ranges can change in between.
    if (errno == EMSGSIZE && attempt < 8) {
      ranges.resize(r.num_iovas + 8);
      continue;
    }
    ThrowErrno(env, errno, "ioctl IOMMU_IOAS_IOVA_RANGES");
    return env.Undefined();
  }
  Napi::Array arr = Napi::Array::New(env, r.num_iovas);
  for (uint32_t i = 0; i < r.num_iovas; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("start", Napi::BigInt::New(env, static_cast<uint64_t>(ranges[i].start)));
    o.Set("last", Napi::BigInt::New(env, static_cast<uint64_t>(ranges[i].last)));
    arr.Set(i, o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ranges", arr);
  out.Set("alignment", Napi::BigInt::New(env, static_cast<uint64_t>(r.out_iova_alignment)));
  return out;
}

Napi::Value HwptAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, "iommufd", &fd)) return env.Undefined();
  if (!info[1].IsObject()) {
    ThrowArgError(env, "argument args must be an object {devId, ptId, flags, ...}");
    return env.Undefined();
  }
  Napi::Object o = info[1].As<Napi::Object>();
  struct iommu_hwpt_alloc a = {};
  a.size = sizeof a;
  bool hasType = false, hasFault = false;
  uint32_t dataType = 0, faultId = 0;
  if (!PropU32(env, o, "devId", &a.dev_id, nullptr) || !PropU32(env, o, "ptId", &a.pt_id, nullptr) ||
      !PropU32(env, o, "flags", &a.flags, nullptr) ||
      !PropU32(env, o, "dataType", &dataType, &hasType) ||
      !PropU32(env, o, "faultId", &faultId, &hasFault))
    return env.Undefined();
  std::vector<uint8_t> data;
  Napi::Value dv = o.Get("data");
  if (!dv.IsUndefined()) {
    if (!dv.IsArrayBuffer()) {
      ThrowArgError(env, "property data must be an ArrayBuffer (e.g. struct iommu_hwpt_selftest)");
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = dv.As<Napi::ArrayBuffer>();
    data.assign(static_cast<uint8_t*>(ab.Data()), static_cast<uint8_t*>(ab.Data()) + ab.ByteLength());
  }
  if ((a.flags & IOMMU_HWPT_FAULT_ID_VALID) && !hasFault) {
    ThrowArgError(env, "flags has IOMMU_HWPT_FAULT_ID_VALID but faultId is missing");
    return env.Undefined();
  }
  a.data_type = dataType;
  a.data_len = static_cast<uint32_t>(data.size());
  a.data_uptr = data.empty() ? 0 : reinterpret_cast<uint64_t>(data.data());
  a.fault_id = faultId;
  if (ioctl(fd, IOMMU_HWPT_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_HWPT_ALLOC");
    return env.Undefined();
  }
  return Napi::Number::New(env, a.out_hwpt_id);
}

Napi::Value FaultQueueAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, "iommufd", &fd)) return env.Undefined();
  struct iommu_fault_alloc a = {};
  a.size = sizeof a;
  if (ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &a) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_FAULT_QUEUE_ALLOC");
    return env.Undefined();
  }
  // The kernel's fault fd has O_CLOEXEC unset on some versions; we never exec, but be safe.
  fcntl(static_cast<int>(a.out_fault_fd), F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("faultId", Napi::Number::New(env, a.out_fault_id));
  out.Set("faultFd", Napi::Number::New(env, a.out_fault_fd));
  return out;
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  int fd;
  uint32_t id;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "id", &id)) return info.Env().Undefined();
  struct iommu_destroy d = {};
  d.size = sizeof d;
  d.id = id;
  if (ioctl(fd, IOMMU_DESTROY, &d) != 0) {
    ThrowErrno(info.Env(), errno, "ioctl IOMMU_DESTROY");
  }
  return info.Env().Undefined();
}

}  // namespace

void InitIommufd(Napi::Env env, Napi::Object exports) {
  exports.Set("openIommufd", Napi::Function::New(env, OpenIommufd, "openIommufd"));
  exports.Set("close", Napi::Function::New(env, CloseFd, "close"));
  exports.Set("getHwInfo", Napi::Function::New(env, GetHwInfo, "getHwInfo"));
  exports.Set("ioasAlloc", Napi::Function::New(env, IoasAlloc, "ioasAlloc"));
  exports.Set("ioasMapAnon", Napi::Function::New(env, IoasMapAnon, "ioasMapAnon"));
  exports.Set("ioasUnmap", Napi::Function::New(env, IoasUnmapJs, "ioasUnmap"));
  exports.Set("ioasIovaRanges", Napi::Function::New(env, IoasIovaRanges, "ioasIovaRanges"));
  exports.Set("hwptAlloc", Napi::Function::New(env, HwptAlloc, "hwptAlloc"));
  exports.Set("faultQueueAlloc", Napi::Function::New(env, FaultQueueAlloc, "faultQueueAlloc"));
  exports.Set("destroy", Napi::Function::New(env, Destroy, "destroy"));
}
