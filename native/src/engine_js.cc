#include "engine_js.h"

#include <errno.h>

#include "errors.h"

void DeliverEngineBatch(Napi::Env env, Napi::Function callback, EngineJsContext* ctx,
                        EngineBatch* batch) {
  std::unique_ptr<EngineBatch> owned(batch);
  if (env == nullptr || ctx == nullptr) return;  // shutting down
  if (callback.IsEmpty()) {
    ctx->engine->FlushDone(nullptr);
    return;
  }
  Napi::HandleScope scope(env);
  // At env teardown N-API refuses calls that may run JS (napi_set_property
  // included) and node-addon-api would make that fatal: probe first.
  napi_value probe;
  if (napi_create_object(env, &probe) != napi_ok ||
      napi_set_named_property(env, probe, "p", probe) != napi_ok) {
    ctx->engine->FlushDone(nullptr);
    return;
  }
  const uint64_t js_start_ns = MonotonicNs();
  napi_value arg = ctx->to_js(env, *owned);
  // Raw call: at env teardown calling into JS fails, and node-addon-api would
  // turn that failure into a fatal napi_throw. A throwing callback surfaces
  // as an uncaught exception like any other.
  napi_value result;
  napi_call_function(env, env.Undefined(), callback, 1, &arg, &result);
  // Only now may the engine hand over the next batch: released before the
  // call, a reader faster than JS kept a batch queued behind every one, and
  // Node's dispatch of queued calls never returned to the event loop.
  ctx->engine->FlushDone(std::move(owned), js_start_ns);
}

bool StartEngineJs(const Napi::CallbackInfo& info, std::shared_ptr<void> keep,
                   EventQueueEngine* engine, BatchToJsFn to_js, EngineTsfn* out) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    ThrowArgError(env, "start(onBatch): onBatch must be a function");
    return false;
  }
  if (engine->Started()) {
    ThrowErrno(env, EBUSY, "start", "the queue is already started");
    return false;
  }
  auto* ctx = new EngineJsContext{std::move(keep), engine, to_js};
  EngineTsfn tsfn = EngineTsfn::New(env, info[0].As<Napi::Function>(), "iommuscope-batches", 0, 1,
                                    ctx, [](Napi::Env, void*, EngineJsContext* c) { delete c; });
  // Like an unref'd timer: an idle queue does not keep the process alive.
  tsfn.Unref(env);
  int rc = engine->Start([tsfn](EngineBatch* b) mutable { return tsfn.NonBlockingCall(b) == napi_ok; });
  if (rc != 0) {
    tsfn.Release();
    ThrowErrno(env, -rc, "epoll/eventfd/timerfd");
    return false;
  }
  *out = tsfn;
  return true;
}
