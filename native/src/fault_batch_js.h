// Fault queue state as JS values (see fault_batch_js.cc).
#pragma once
#include <napi.h>

#include <vector>

#include "batch.h"
#include "fault_core.h"

napi_value FaultBatchToJs(Napi::Env env, const EngineBatch& batch);
Napi::Object TotalsToJs(Napi::Env env, const Totals& t);
Napi::Object FailureToJs(Napi::Env env, const AnswerFailure& f);
Napi::Array PendingToJs(Napi::Env env, const std::vector<PendingGroup>& groups);
