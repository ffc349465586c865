// Batch sysfs reader: many files, folders and links in one call, with a
// per-entry error instead of an exception. Decoding lives in TypeScript.
#ifndef IOMMUSCOPE_SYSFS_H
#define IOMMUSCOPE_SYSFS_H

#include <napi.h>

// Adds readSysfs and readSysfsAsync to the addon's exports.
void InitSysfs(Napi::Env env, Napi::Object exports);

#endif
