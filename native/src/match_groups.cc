// matchGroups(match, records, pages): the policy matcher alone, for tests
// and tools (addon-types.ts NativeAddon.matchGroups).
#include <cstring>
#include <string>
#include <vector>

#include "addon_init.h"
#include "errors.h"
#include "policy_parse.h"

static Napi::Value MatchGroupsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Match m;
  if (!ParseMatch(env, info[0], &m)) return env.Undefined();
  if (!info[1].IsArrayBuffer() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowArgError(env, "matchGroups(match, records: ArrayBuffer, pages: Uint32Array)");
    return env.Undefined();
  }
  Napi::ArrayBuffer buf = info[1].As<Napi::ArrayBuffer>();
  Napi::Uint32Array pages = info[2].As<Napi::Uint32Array>();
  size_t total = buf.ByteLength() / sizeof(iommu_hwpt_pgfault);
  size_t need = 0;
  for (size_t g = 0; g < pages.ElementLength(); g++) {
    if (pages[g] == 0) {
      ThrowArgError(env, "pages[" + std::to_string(g) + "] is 0: a group has at least one record");
      return env.Undefined();
    }
    need += pages[g];
  }
  if (need != total || buf.ByteLength() % sizeof(iommu_hwpt_pgfault) != 0) {
    ThrowArgError(env, "records hold " + std::to_string(buf.ByteLength()) +
                           " bytes but pages sum to " + std::to_string(need) +
                           " records of 40 bytes");
    return env.Undefined();
  }
  // ArrayBuffers are allocated aligned; copy only one that is not.
  const iommu_hwpt_pgfault* recs = static_cast<const iommu_hwpt_pgfault*>(buf.Data());
  std::vector<iommu_hwpt_pgfault> copy;
  if (reinterpret_cast<uintptr_t>(recs) % alignof(iommu_hwpt_pgfault) != 0) {
    copy.resize(total);
    memcpy(copy.data(), buf.Data(), total * sizeof(iommu_hwpt_pgfault));
    recs = copy.data();
  }
  Napi::Uint8Array out = Napi::Uint8Array::New(env, pages.ElementLength());
  uint8_t* res = out.Data();
  const uint32_t* n = pages.Data();
  size_t at = 0;
  for (size_t g = 0; g < pages.ElementLength(); g++) {
    res[g] = MatchGroup(m, recs + at, n[g]) ? 1 : 0;
    at += n[g];
  }
  return out;
}

void InitMatchGroups(Napi::Env env, Napi::Object exports) {
  exports.Set("matchGroups", Napi::Function::New(env, MatchGroupsJs, "matchGroups"));
}
