// One init function per part of the addon; addon.cc calls each.
#pragma once
#include <napi.h>

void InitIommufd(Napi::Env env, Napi::Object exports);
void InitVfio(Napi::Env env, Napi::Object exports);
void InitSelftest(Napi::Env env, Napi::Object exports);
void InitFaultQueue(Napi::Env env, Napi::Object exports);
void InitEventQueue(Napi::Env env, Napi::Object exports);
void InitSysfs(Napi::Env env, Napi::Object exports);
void InitMatchGroups(Napi::Env env, Napi::Object exports);
void InitViommu(Napi::Env env, Napi::Object exports);
