// iommufd selftest (CONFIG_IOMMUFD_TEST) entry points: the mock device and
// fault injection with TRIGGER_IOPF.
#include <errno.h>
#include <sys/ioctl.h>

#include "addon_init.h"
#include "args.h"
#include "errors.h"
#include "kernel_ioctls.h"
#include "uapi.h"

namespace {

// An op number the selftest does not know: with CONFIG_IOMMUFD_TEST the
// kernel answers EOPNOTSUPP, without it the ioctl itself is unknown (ENOTTY).
constexpr uint32_t kProbeOp = 0xffff;

Napi::Value TestCmdAvailable(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, "iommufd", &fd)) return info.Env().Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = kProbeOp;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) == 0) return Napi::Boolean::New(info.Env(), true);
  int err = errno;
  if (err == EOPNOTSUPP) return Napi::Boolean::New(info.Env(), true);
  if (err == ENOTTY) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), err, "ioctl IOMMU_TEST_CMD",
             "probing IOMMU_TEST_CMD failed unexpectedly: " + ErrnoText(err) +
                 " (expected EOPNOTSUPP with CONFIG_IOMMUFD_TEST or ENOTTY without)");
  return info.Env().Undefined();
}

// Whether the selftest knows `op`: run it with id 0 and an all-zero payload.
// Ops the kernel does not have answer EOPNOTSUPP (its switch default); every
// op we probe looks its object up first, so id 0 fails with ENOENT (or
// EINVAL) before doing anything.
Napi::Value TestOpSupported(const Napi::CallbackInfo& info) {
  int fd;
  uint32_t op;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "op", &op)) return info.Env().Undefined();
  if (op != IOMMU_TEST_OP_TRIGGER_VEVENT && op != IOMMU_TEST_OP_PASID_ATTACH &&
      op != IOMMU_TEST_OP_PASID_REPLACE && op != IOMMU_TEST_OP_PASID_DETACH &&
      op != IOMMU_TEST_OP_PASID_CHECK_HWPT) {
    ThrowArgError(info.Env(), "op must be one whose probe has no effect (TRIGGER_VEVENT, PASID_*)");
    return info.Env().Undefined();
  }
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = op;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) == 0) return Napi::Boolean::New(info.Env(), true);
  int err = errno;
  if (err == EOPNOTSUPP || err == ENOTTY) return Napi::Boolean::New(info.Env(), false);
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value MockDomainFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ioas, flags;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "ioasId", &ioas) ||
      !ArgU32(info, 2, "devFlags", &flags))
    return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
  c.id = ioas;
  c.mock_domain_flags.dev_flags = flags;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(MOCK_DOMAIN_FLAGS)");
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("stdevId", Napi::Number::New(env, c.mock_domain_flags.out_stdev_id));
  out.Set("hwptId", Napi::Number::New(env, c.mock_domain_flags.out_hwpt_id));
  out.Set("idevId", Napi::Number::New(env, c.mock_domain_flags.out_idev_id));
  return out;
}

// PASID_ATTACH / PASID_REPLACE: returns the pt id the kernel reports back.
Napi::Value PasidAttachOp(const Napi::CallbackInfo& info, uint32_t op, const char* name) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t stdev, pasid, pt;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "stdevId", &stdev) ||
      !ArgU32(info, 2, "pasid", &pasid) || !ArgU32(info, 3, "ptId", &pt))
    return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = op;
  c.id = stdev;
  c.pasid_attach.pasid = pasid;
  c.pasid_attach.pt_id = pt;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) {
    ThrowErrno(env, errno, std::string("ioctl IOMMU_TEST_CMD(") + name + ")");
    return env.Undefined();
  }
  return Napi::Number::New(env, c.pasid_attach.pt_id);
}

Napi::Value PasidAttach(const Napi::CallbackInfo& info) {
  return PasidAttachOp(info, IOMMU_TEST_OP_PASID_ATTACH, "PASID_ATTACH");
}

Napi::Value PasidReplace(const Napi::CallbackInfo& info) {
  return PasidAttachOp(info, IOMMU_TEST_OP_PASID_REPLACE, "PASID_REPLACE");
}

Napi::Value PasidDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t stdev, pasid;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "stdevId", &stdev) ||
      !ArgU32(info, 2, "pasid", &pasid))
    return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_PASID_DETACH;
  c.id = stdev;
  c.pasid_detach.pasid = pasid;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(PASID_DETACH)");
  return env.Undefined();
}

// True when `pasid` is attached to hwptId (0: when it is detached); EINVAL is false.
Napi::Value PasidCheckHwpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t stdev, pasid, hwpt;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "stdevId", &stdev) ||
      !ArgU32(info, 2, "pasid", &pasid) || !ArgU32(info, 3, "hwptId", &hwpt))
    return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_PASID_CHECK_HWPT;
  c.id = stdev;
  c.pasid_check.pasid = pasid;
  c.pasid_check.hwpt_id = hwpt;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINVAL) return Napi::Boolean::New(env, false);
  ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(PASID_CHECK_HWPT)");
  return env.Undefined();
}

Napi::Value TriggerVevent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t dev;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "devId", &dev)) return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_TRIGGER_VEVENT;
  c.trigger_vevent.dev_id = dev;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(TRIGGER_VEVENT)");
  return env.Undefined();
}

Napi::Value MockDomain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t ioas;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "ioasId", &ioas)) return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_MOCK_DOMAIN;
  c.id = ioas;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(MOCK_DOMAIN)");
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("stdevId", Napi::Number::New(env, c.mock_domain.out_stdev_id));
  out.Set("hwptId", Napi::Number::New(env, c.mock_domain.out_hwpt_id));
  out.Set("idevId", Napi::Number::New(env, c.mock_domain.out_idev_id));
  return out;
}

Napi::Value MockDomainReplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t stdev, pt;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "stdevId", &stdev) ||
      !ArgU32(info, 2, "ptId", &pt))
    return env.Undefined();
  struct iommu_test_cmd c = {};
  c.size = sizeof c;
  c.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE;
  c.id = stdev;
  c.mock_domain_replace.pt_id = pt;
  if (ioctl(fd, IOMMU_TEST_CMD, &c) != 0) {
    ThrowErrno(env, errno, "ioctl IOMMU_TEST_CMD(MOCK_DOMAIN_REPLACE)");
    return env.Undefined();
  }
  return Napi::Number::New(env, c.mock_domain_replace.pt_id);
}

Napi::Value TriggerIopfJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t dev, pasid, grpid, perm;
  uint64_t addr;
  if (!ArgFd(info, 0, "iommufd", &fd) || !ArgU32(info, 1, "devId", &dev) ||
      !ArgU32(info, 2, "pasid", &pasid) || !ArgU32(info, 3, "grpid", &grpid) ||
      !ArgU32(info, 4, "perm", &perm) || !ArgU64(info, 5, "addr", &addr))
    return env.Undefined();
  int rc = TriggerIopf(fd, dev, pasid, grpid, perm, addr);
  if (rc != 0) ThrowErrno(env, -rc, "ioctl IOMMU_TEST_CMD(TRIGGER_IOPF)");
  return env.Undefined();
}

}  // namespace

void InitSelftest(Napi::Env env, Napi::Object exports) {
  exports.Set("testCmdAvailable", Napi::Function::New(env, TestCmdAvailable, "testCmdAvailable"));
  exports.Set("mockDomain", Napi::Function::New(env, MockDomain, "mockDomain"));
  exports.Set("mockDomainReplace", Napi::Function::New(env, MockDomainReplace, "mockDomainReplace"));
  exports.Set("triggerIopf", Napi::Function::New(env, TriggerIopfJs, "triggerIopf"));
  exports.Set("testOpSupported", Napi::Function::New(env, TestOpSupported, "testOpSupported"));
  exports.Set("mockDomainFlags", Napi::Function::New(env, MockDomainFlags, "mockDomainFlags"));
  exports.Set("mockPasidAttach", Napi::Function::New(env, PasidAttach, "mockPasidAttach"));
  exports.Set("mockPasidReplace", Napi::Function::New(env, PasidReplace, "mockPasidReplace"));
  exports.Set("mockPasidDetach", Napi::Function::New(env, PasidDetach, "mockPasidDetach"));
  exports.Set("mockPasidCheckHwpt", Napi::Function::New(env, PasidCheckHwpt, "mockPasidCheckHwpt"));
  exports.Set("triggerVevent", Napi::Function::New(env, TriggerVevent, "triggerVevent"));
}
