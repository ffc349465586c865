// The JS EventQueue (NativeEventQueue in addon-types.ts) and
// createEventQueue(): read-only kernel event queues on the event-queue
// engine. Today one kind: 'veventq' (VeventQueueCore).
#include <errno.h>
#include <string.h>

#include <memory>

#include "addon_init.h"
#include "args.h"
#include "engine_js.h"
#include "errors.h"
#include "vevent_queue.h"

namespace {

constexpr uint32_t kMaxDataBytes = 1u << 16;

Napi::Object VeventTotalsToJs(Napi::Env env, const VeventTotals& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", double(t.events));
  o.Set("lostMarkers", double(t.lost_markers));
  o.Set("lost", double(t.lost));
  o.Set("overflow", double(t.overflow));
  o.Set("malformed", double(t.malformed));
  o.Set("reads", double(t.reads));
  o.Set("bytes", double(t.bytes));
  o.Set("errors", double(t.errors));
  return o;
}

napi_value VeventBatchToJs(Napi::Env env, const EngineBatch& eb) {
  const VeventBatch& b = static_cast<const VeventBatch&>(eb);
  Napi::Object o = Napi::Object::New(env);
  o.Set("queue", double(b.queue));
  Napi::Object ev = Napi::Object::New(env);
  ev.Set("sequence", TypedCopy<Napi::Uint32Array>(env, b.sequence));
  ev.Set("flags", TypedCopy<Napi::Uint32Array>(env, b.flags));
  ev.Set("offset", TypedCopy<Napi::Uint32Array>(env, b.offset));
  ev.Set("length", TypedCopy<Napi::Uint32Array>(env, b.length));
  ev.Set("lostBefore", TypedCopy<Napi::Uint32Array>(env, b.lost_before));
  ev.Set("readNs", TypedCopy<Napi::Float64Array>(env, b.read_ns));
  o.Set("events", ev);
  Napi::ArrayBuffer data = Napi::ArrayBuffer::New(env, b.data.size());
  if (!b.data.empty()) memcpy(data.Data(), b.data.data(), b.data.size());
  o.Set("data", data);
  Napi::Array errors = Napi::Array::New(env, b.errors.size());
  for (size_t i = 0; i < b.errors.size(); i++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("code", ErrnoName(b.errors[i].err));
    e.Set("errno", double(b.errors[i].err));
    e.Set("op", b.errors[i].op);
    e.Set("message", b.errors[i].message);
    errors.Set(uint32_t(i), e);
  }
  o.Set("errors", errors);
  o.Set("lost", double(b.lost));
  o.Set("overflow", double(b.overflow));
  o.Set("totals", VeventTotalsToJs(env, b.totals));
  return o;
}

class EventQueue : public Napi::ObjectWrap<EventQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EventQueue",
                       {
                           InstanceAccessor<&EventQueue::Id>("id"),
                           InstanceMethod<&EventQueue::Start>("start"),
                           InstanceMethod<&EventQueue::TotalsJs>("totals"),
                           InstanceMethod<&EventQueue::Close>("close"),
                           InstanceAccessor<&EventQueue::Closed>("closed"),
                       });
  }

  EventQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EventQueue>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      ThrowArgError(env, "createEventQueue(options): options must be an object with kind "
                         "'veventq'");
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    std::string kind = o.Get("kind").IsString() ? o.Get("kind").As<Napi::String>().Utf8Value() : "";
    if (kind != "veventq") {
      ThrowArgError(env, "options.kind must be 'veventq'");
      return;
    }
    VeventOptions opts;
    uint32_t fd = 0, events = 0;
    double flush_ms = 10;
    bool has_events = false, has = false;
    if (!PropU32(env, o, "fd", &fd, nullptr) ||
        !PropU32(env, o, "dataBytes", &opts.data_bytes, nullptr) ||
        !PropU32(env, o, "jsBufferEvents", &events, &has_events) ||
        !PropNumber(env, o, "flushIntervalMs", &flush_ms, &has))
      return;
    if (opts.data_bytes > kMaxDataBytes) {
      ThrowArgError(env, "options.dataBytes " + std::to_string(opts.data_bytes) +
                             " is larger than any vEVENT type (max " +
                             std::to_string(kMaxDataBytes) + "): pass the size of the type's "
                             "event struct, e.g. 32 for struct iommu_vevent_arm_smmuv3");
      return;
    }
    if (has_events) opts.js_buffer_events = events;
    opts.flush_interval_ns = uint64_t(flush_ms * 1e6);
    core_ = std::make_shared<VeventQueueCore>(MakeFdChannel(int(fd)), opts);
  }

  ~EventQueue() override { Shutdown(); }

 private:
  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    if (core_) core_->Stop();
    if (tsfn_started_) tsfn_.Release();
    tsfn_started_ = false;
  }

  Napi::Value Id(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_ ? double(core_->id()) : 0);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !core_) {
      ThrowErrno(env, EBADF, "event queue", "the event queue is closed");
      return env.Undefined();
    }
    tsfn_started_ = StartEngineJs(info, core_, &core_->engine(), VeventBatchToJs, &tsfn_);
    return env.Undefined();
  }

  Napi::Value TotalsJs(const Napi::CallbackInfo& info) {
    return VeventTotalsToJs(info.Env(), core_ ? core_->GetTotals() : VeventTotals());
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closed_ || !core_);
  }

  std::shared_ptr<VeventQueueCore> core_;
  EngineTsfn tsfn_;
  bool tsfn_started_ = false;
  bool closed_ = false;
};

}  // namespace

void InitEventQueue(Napi::Env env, Napi::Object exports) {
  ExportQueueFactory<EventQueue>(env, exports, "createEventQueue");
}
