// The JS side of an EventQueueEngine: batches reach JS through one
// thread-safe function call per flush; the spent batch goes back to the
// engine for reuse before the callback runs (a throwing callback must not
// stall flushes).
#pragma once
#include <napi.h>
#include <string.h>

#include <memory>
#include <vector>

#include "event_engine.h"

// Converts one flush to its JS object (FaultBatch, VeventBatch).
using BatchToJsFn = napi_value (*)(Napi::Env env, const EngineBatch& batch);

struct EngineJsContext {
  std::shared_ptr<void> keep;  // the queue core: outlives every queued delivery
  EventQueueEngine* engine;
  BatchToJsFn to_js;
};

void DeliverEngineBatch(Napi::Env env, Napi::Function callback, EngineJsContext* ctx,
                        EngineBatch* batch);
using EngineTsfn = Napi::TypedThreadSafeFunction<EngineJsContext, EngineBatch, DeliverEngineBatch>;

// start(onBatch) for any queue: makes the (unref'd) thread-safe function and
// starts the engine. Throws (and returns false) on bad input or failure.
bool StartEngineJs(const Napi::CallbackInfo& info, std::shared_ptr<void> keep,
                   EventQueueEngine* engine, BatchToJsFn to_js, EngineTsfn* out);

// Copies a vector into a fresh typed array.
template <typename Arr, typename T>
Arr TypedCopy(Napi::Env env, const std::vector<T>& v) {
  Arr a = Arr::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

// exports[name] = a factory calling `new Wrap(options)`: the queue classes are
// created through createFaultQueue/createEventQueue, never with `new` from JS.
template <typename Wrap>
void ExportQueueFactory(Napi::Env env, Napi::Object exports, const char* name) {
  Napi::FunctionReference* ctor = new Napi::FunctionReference();
  *ctor = Napi::Persistent(Wrap::Define(env));
  env.AddCleanupHook([ctor]() { delete ctor; });
  auto create = [](const Napi::CallbackInfo& info) -> Napi::Value {
    return static_cast<Napi::FunctionReference*>(info.Data())->New({info[0]});
  };
  exports.Set(name, Napi::Function::New(env, create, name, ctor));
}
