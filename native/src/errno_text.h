// errno as text, for messages built off the JS thread (the native core has no
// N-API: see errors.h for the NativeError thrown to JS).
#pragma once
#include <string>

const char* ErrnoName(int err);  // "EINVAL"
std::string ErrnoText(int err);  // "EINVAL (Invalid argument)"
