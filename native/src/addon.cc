// Module init: each part of the addon registers its functions.
#include <napi.h>

#include "addon_init.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitIommufd(env, exports);
  InitVfio(env, exports);
  InitSelftest(env, exports);
  InitFaultQueue(env, exports);
  InitEventQueue(env, exports);
  InitSysfs(env, exports);
  InitMatchGroups(env, exports);
  InitViommu(env, exports);
  return exports;
}

NODE_API_MODULE(iommuscope, Init)
