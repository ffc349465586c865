// VFIO device cdev entry points: open /dev/vfio/devices/vfioN, bind to an
// iommufd, attach/detach a page table (optionally for a PASID).
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "addon_init.h"
#include "args.h"
#include "errors.h"
#include "uapi.h"

namespace {

bool OptionalPasid(const Napi::CallbackInfo& info, size_t i, bool* has, uint32_t* pasid) {
  *has = info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull();
  return !*has || ArgU32(info, i, "pasid", pasid);
}

Napi::Value OpenVfioDevice(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return info.Env().Undefined();
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string hint;
    if (err == ENOENT) hint = " (is the device bound to vfio-pci and CONFIG_VFIO_DEVICE_CDEV set?)";
    if (err == EBUSY) hint = " (the device is already open, e.g. through its VFIO group)";
    ThrowErrno(info.Env(), err, "open " + path, "open " + path + ": " + ErrnoText(err) + hint);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value BindIommufd(const Napi::CallbackInfo& info) {
  int dfd, ifd;
  if (!ArgFd(info, 0, "deviceFd", &dfd) || !ArgFd(info, 1, "iommufd", &ifd))
    return info.Env().Undefined();
  struct vfio_device_bind_iommufd b = {};
  b.argsz = sizeof b;
  b.iommufd = ifd;
  if (ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &b) != 0) {
    ThrowErrno(info.Env(), errno, "ioctl VFIO_DEVICE_BIND_IOMMUFD");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), b.out_devid);
}

Napi::Value AttachPt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dfd;
  uint32_t pt, pasid = 0;
  bool hasPasid;
  if (!ArgFd(info, 0, "deviceFd", &dfd) || !ArgU32(info, 1, "ptId", &pt) ||
      !OptionalPasid(info, 2, &hasPasid, &pasid))
    return env.Undefined();
  int rc;
  uint32_t outPt;
  if (hasPasid) {
    struct vfio_device_attach_iommufd_pt_pasid a = {};
    a.argsz = sizeof a;
    a.flags = VFIO_DEVICE_ATTACH_PASID;
    a.pt_id = pt;
    a.pasid = pasid;
    rc = ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
    outPt = a.pt_id;
  } else {
    struct vfio_device_attach_iommufd_pt a = {};
    a.argsz = sizeof a;
    a.pt_id = pt;
    rc = ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
    outPt = a.pt_id;
  }
  if (rc != 0) {
    int err = errno;
    std::string msg = "ioctl VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: " + ErrnoText(err);
    if (hasPasid && err == EINVAL)
      msg += " (PASID attach needs a kernel with VFIO_DEVICE_ATTACH_PASID, Linux 6.15+, and a PASID-capable device)";
    ThrowErrno(env, err, "ioctl VFIO_DEVICE_ATTACH_IOMMUFD_PT", msg);
    return env.Undefined();
  }
  return Napi::Number::New(env, outPt);  // the kernel may return an auto-domain id
}

Napi::Value DetachPt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dfd;
  uint32_t pasid = 0;
  bool hasPasid;
  if (!ArgFd(info, 0, "deviceFd", &dfd) || !OptionalPasid(info, 1, &hasPasid, &pasid))
    return env.Undefined();
  int rc;
  if (hasPasid) {
    struct vfio_device_detach_iommufd_pt_pasid d = {};
    d.argsz = sizeof d;
    d.flags = VFIO_DEVICE_DETACH_PASID;
    d.pasid = pasid;
    rc = ioctl(dfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
  } else {
    struct vfio_device_detach_iommufd_pt d = {};
    d.argsz = sizeof d;
    rc = ioctl(dfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
  }
  if (rc != 0) ThrowErrno(env, errno, "ioctl VFIO_DEVICE_DETACH_IOMMUFD_PT");
  return env.Undefined();
}

}  // namespace

void InitVfio(Napi::Env env, Napi::Object exports) {
  exports.Set("openVfioDevice", Napi::Function::New(env, OpenVfioDevice, "openVfioDevice"));
  exports.Set("vfioBindIommufd", Napi::Function::New(env, BindIommufd, "vfioBindIommufd"));
  exports.Set("vfioAttachPt", Napi::Function::New(env, AttachPt, "vfioAttachPt"));
  exports.Set("vfioDetachPt", Napi::Function::New(env, DetachPt, "vfioDetachPt"));
}
