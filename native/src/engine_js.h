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

// Typed-array columns of one flush packed into one uninitialised Node buffer:
// one allocation and no zero-fill per flush instead of one zeroed
// ArrayBuffer per column. Columns start 8-byte aligned, so any element type
// fits. Usage: Reserve() every column, Allocate(), then Take() them in order.
class PackedColumns {
 public:
  template <typename T>
  void Reserve(const std::vector<T>& v) {
    bytes_ += Aligned(v.size() * sizeof(T));
  }
  void Allocate(Napi::Env env) {
    buffer_ = Napi::Buffer<uint8_t>::New(env, bytes_ ? bytes_ : 8);
    base_ = buffer_.Data();
  }
  template <typename Arr, typename T>
  Arr Take(Napi::Env env, const std::vector<T>& v) {
    const size_t bytes = v.size() * sizeof(T);
    if (bytes) memcpy(base_ + offset_, v.data(), bytes);
    Arr a = Arr::New(env, v.size(), buffer_.ArrayBuffer(), buffer_.ByteOffset() + offset_);
    offset_ += Aligned(bytes);
    return a;
  }

 private:
  static size_t Aligned(size_t n) { return (n + 7) & ~size_t(7); }
  Napi::Buffer<uint8_t> buffer_;
  uint8_t* base_ = nullptr;
  size_t bytes_ = 0, offset_ = 0;
};

// A fresh ArrayBuffer holding exactly `bytes` bytes of `data`, not zero-filled first.
inline Napi::ArrayBuffer ArrayBufferCopy(Napi::Env env, const void* data, size_t bytes) {
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data),
                                                        bytes);
  Napi::ArrayBuffer ab = b.ArrayBuffer();
  // A buffer that is a view into a larger one (never for Copy today) is cut to its own bytes.
  if (b.ByteOffset() != 0 || ab.ByteLength() != bytes) {
    ab = Napi::ArrayBuffer::New(env, bytes);
    if (bytes) memcpy(ab.Data(), data, bytes);
  }
  return ab;
}

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
