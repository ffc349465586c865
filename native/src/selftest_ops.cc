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
}
