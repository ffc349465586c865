// The JS FaultQueue (NativeFaultQueue in addon-types.ts) and
// createFaultQueue(). Batches reach JS through one thread-safe function
// call per flush; the queue's engine lives in FaultQueueCore.
#include <errno.h>
#include <string.h>

#include <memory>

#include "addon_init.h"
#include "args.h"
#include "errors.h"
#include "fault_core.h"
#include "inject_spec.h"
#include "injector.h"
#include "policy.h"
#include "sim_channel.h"

namespace {

using CorePtr = std::shared_ptr<FaultQueueCore>;
void DeliverBatch(Napi::Env env, Napi::Function callback, CorePtr* core, Batch* batch);
using BatchTsfn = Napi::TypedThreadSafeFunction<CorePtr, Batch, DeliverBatch>;

Napi::Object TotalsToJs(Napi::Env env, const Totals& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("faults", double(t.faults));
  o.Set("groups", double(t.groups));
  o.Set("answered", double(t.answered));
  o.Set("success", double(t.success));
  o.Set("invalid", double(t.invalid));
  o.Set("pending", double(t.pending));
  o.Set("errors", double(t.errors));
  o.Set("overflow", double(t.overflow));
  o.Set("malformed", double(t.malformed));
  o.Set("reads", double(t.reads));
  return o;
}

template <typename Arr, typename T>
Arr TypedCopy(Napi::Env env, const std::vector<T>& v) {
  Arr a = Arr::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

Napi::Object BatchToJs(Napi::Env env, const Batch& b) {
  Napi::Object o = Napi::Object::New(env);
  Napi::ArrayBuffer recs = Napi::ArrayBuffer::New(env, b.records.size());
  if (!b.records.empty()) memcpy(recs.Data(), b.records.data(), b.records.size());
  o.Set("records", recs);
  o.Set("readNs", TypedCopy<Napi::Float64Array>(env, b.read_ns));
  size_t n = b.answered.size();
  Napi::Uint32Array cookies = Napi::Uint32Array::New(env, n);
  Napi::Uint8Array codes = Napi::Uint8Array::New(env, n);
  Napi::Uint8Array by = Napi::Uint8Array::New(env, n);
  Napi::Int16Array rule = Napi::Int16Array::New(env, n);
  Napi::Float64Array lat = Napi::Float64Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    const AnsweredEntry& a = b.answered[i];
    cookies[i] = a.cookie;
    codes[i] = a.code;
    by[i] = a.by;
    rule[i] = a.rule;
    lat[i] = a.latency_ns;
  }
  Napi::Object answered = Napi::Object::New(env);
  answered.Set("cookies", cookies);
  answered.Set("codes", codes);
  answered.Set("by", by);
  answered.Set("rule", rule);
  answered.Set("latencyNs", lat);
  o.Set("answered", answered);
  Napi::Array errors = Napi::Array::New(env, b.errors.size());
  for (size_t i = 0; i < b.errors.size(); i++) {
    const ErrorEntry& e = b.errors[i];
    Napi::Object eo = Napi::Object::New(env);
    eo.Set("cookie", double(e.cookie));
    eo.Set("code", ErrnoName(e.err));
    eo.Set("errno", double(e.err));
    eo.Set("op", e.op);
    eo.Set("message", e.message);
    errors.Set(uint32_t(i), eo);
  }
  o.Set("errors", errors);
  o.Set("overflow", double(b.overflow));
  o.Set("answeredOverflow", double(b.answered_overflow));
  o.Set("totals", TotalsToJs(env, b.totals));
  return o;
}

void DeliverBatch(Napi::Env env, Napi::Function callback, CorePtr* core, Batch* batch) {
  std::unique_ptr<Batch> owned(batch);
  if (env == nullptr || core == nullptr) return;  // shutting down
  if (callback.IsEmpty()) {
    (*core)->FlushDone(nullptr);
    return;
  }
  Napi::HandleScope scope(env);
  // At env teardown N-API refuses calls that may run JS (napi_set_property
  // included) and node-addon-api would make that fatal: probe first.
  napi_value probe;
  if (napi_create_object(env, &probe) != napi_ok ||
      napi_set_named_property(env, probe, "p", probe) != napi_ok) {
    (*core)->FlushDone(nullptr);
    return;
  }
  napi_value arg = BatchToJs(env, *owned);
  // Before calling out: a throwing callback must not stall flushes. The batch
  // is copied out, so its buffers go back to the reader for reuse.
  (*core)->FlushDone(std::move(owned));
  // Raw call: at env teardown calling into JS fails, and node-addon-api would
  // turn that failure into a fatal napi_throw. A throwing callback surfaces
  // as an uncaught exception like any other.
  napi_value result;
  napi_call_function(env, env.Undefined(), callback, 1, &arg, &result);
}

class FaultQueue : public Napi::ObjectWrap<FaultQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "FaultQueue",
        {
            InstanceMethod<&FaultQueue::Start>("start"),
            InstanceMethod<&FaultQueue::SetPolicy>("setPolicy"),
            InstanceMethod<&FaultQueue::Respond>("respond"),
            InstanceMethod<&FaultQueue::Drain>("drain"),
            InstanceMethod<&FaultQueue::PendingJs>("pending"),
            InstanceMethod<&FaultQueue::TotalsJs>("totals"),
            InstanceMethod<&FaultQueue::Inject>("inject"),
            InstanceMethod<&FaultQueue::InjectProgressJs>("injectProgress"),
            InstanceMethod<&FaultQueue::StopInject>("stopInject"),
            InstanceMethod<&FaultQueue::SimDetach>("simDetach"),
            InstanceMethod<&FaultQueue::KernelDetached>("kernelDetached"),
            InstanceMethod<&FaultQueue::Close>("close"),
            InstanceAccessor<&FaultQueue::Closed>("closed"),
        });
  }

  FaultQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FaultQueue>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      ThrowArgError(env, "createFaultQueue(options): options must be an object with kind "
                         "'kernel' or 'sim'");
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    std::string kind = o.Get("kind").IsString() ? o.Get("kind").As<Napi::String>().Utf8Value() : "";
    QueueOptions opts;
    uint32_t js_records = 1u << 20, limit = 0, fault_fd = 0, u = 0;
    double flush_ms = 10;
    bool has = false;
    if (!PropU32(env, o, "jsBufferRecords", &js_records, &has) ||
        !PropNumber(env, o, "flushIntervalMs", &flush_ms, &has))
      return;
    opts.js_buffer_records = js_records;
    opts.flush_interval_ns = uint64_t(flush_ms * 1e6);
    std::unique_ptr<FaultChannel> channel;
    SimChannel* sim = nullptr;
    if (kind == "sim") {
      if (!PropU32(env, o, "outstandingLimit", &limit, &has)) return;
      auto s = std::make_unique<SimChannel>(limit);
      if (s->PollFd() < 0) {
        ThrowErrno(env, errno, "eventfd");
        return;
      }
      sim = s.get();
      channel = std::move(s);
    } else if (kind == "kernel") {
      if (!PropU32(env, o, "faultFd", &fault_fd, nullptr)) return;
      bool has_fd = false;
      if (!PropU32(env, o, "iommufd", &u, &has_fd)) return;
      if (has_fd) opts.iommufd = int(u);
      if (!PropU32(env, o, "ioasId", &opts.ioas, &opts.has_ioas) ||
          !PropU32(env, o, "mockDevId", &opts.mock_dev, &opts.has_mock_dev))
        return;
      if ((opts.has_ioas || opts.has_mock_dev) && !has_fd) {
        ThrowArgError(env, "ioasId and mockDevId need iommufd (the iommufd they belong to)");
        return;
      }
      channel = MakeKernelChannel(int(fault_fd));
    } else {
      ThrowArgError(env, "options.kind must be 'kernel' or 'sim'");
      return;
    }
    core_ = std::make_shared<FaultQueueCore>(std::move(channel), sim, opts);
    if (sim || opts.has_mock_dev)
      injector_ = std::make_unique<Injector>(sim, opts.iommufd, opts.mock_dev);
  }

  ~FaultQueue() override { Shutdown(); }  // also when JS dropped the queue unclosed

 private:
  bool CheckOpen(Napi::Env env) {
    if (closed_ || !core_) {
      ThrowErrno(env, EBADF, "fault queue", "the fault queue is closed");
      return false;
    }
    return true;
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    if (injector_) injector_->Stop();
    if (core_) core_->Stop();  // joins the reader; a last flush may still be queued
    if (tsfn_started_) tsfn_.Release();
    tsfn_started_ = false;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (!info[0].IsFunction()) {
      ThrowArgError(env, "start(onBatch): onBatch must be a function");
      return env.Undefined();
    }
    if (core_->Started()) {
      ThrowErrno(env, EBUSY, "fault queue", "the fault queue is already started");
      return env.Undefined();
    }
    tsfn_ = BatchTsfn::New(env, info[0].As<Napi::Function>(), "iommuscope-fault-batches", 0, 1,
                           new CorePtr(core_),
                           [](Napi::Env, void*, CorePtr* ctx) { delete ctx; });
    // Like an unref'd timer: an idle queue does not keep the process alive.
    tsfn_.Unref(env);
    tsfn_started_ = true;
    BatchTsfn tsfn = tsfn_;
    int rc = core_->Start([tsfn](Batch* b) mutable { return tsfn.NonBlockingCall(b) == napi_ok; });
    if (rc != 0) {
      tsfn_.Release();
      tsfn_started_ = false;
      ThrowErrno(env, -rc, "epoll/eventfd/timerfd");
    }
    return env.Undefined();
  }

  Napi::Value SetPolicy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    Policy p;
    bool map_ok = core_->options().iommufd >= 0 && core_->options().has_ioas;
    if (ParsePolicy(env, info[0], map_ok, &p)) core_->SetPolicy(std::move(p));
    return env.Undefined();
  }

  static bool ParseCode(Napi::Env env, Napi::Value v, uint32_t* code) {
    if (!ToU32(env, v, "code", code)) return false;
    if (*code > 1) {
      ThrowArgError(env, "code must be 0 (success) or 1 (invalid), got " + std::to_string(*code));
      return false;
    }
    return true;
  }

  // A number[] or Uint32Array of cookies; throws EARG naming `usage` otherwise.
  static bool ParseCookies(Napi::Env env, Napi::Value v, const char* usage,
                           std::vector<uint32_t>* out) {
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array) {
      Napi::Uint32Array a = v.As<Napi::Uint32Array>();
      out->assign(a.Data(), a.Data() + a.ElementLength());
      return true;
    }
    if (v.IsArray()) {
      Napi::Array a = v.As<Napi::Array>();
      out->reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); i++) {
        uint32_t c;
        if (!ToU32(env, a.Get(i), "cookies[" + std::to_string(i) + "]", &c)) return false;
        out->push_back(c);
      }
      return true;
    }
    ThrowArgError(env, std::string(usage) + ": cookies must be a number[] or Uint32Array");
    return false;
  }

  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    uint32_t code;
    std::vector<uint32_t> cookies;
    if (!ParseCookies(env, info[0], "respond(cookies, code)", &cookies)) return env.Undefined();
    if (!ParseCode(env, info[1], &code)) return env.Undefined();
    std::vector<AnswerRequest> req;
    req.reserve(cookies.size());
    for (uint32_t c : cookies) req.push_back({c, code, -1});
    std::vector<AnswerFailure> failed;
    std::vector<uint32_t> ok = core_->Answer(req, kByUser, &failed);
    Napi::Object out = Napi::Object::New(env);
    Napi::Array oka = Napi::Array::New(env, ok.size());
    for (size_t i = 0; i < ok.size(); i++) oka.Set(uint32_t(i), double(ok[i]));
    Napi::Array fa = Napi::Array::New(env, failed.size());
    for (size_t i = 0; i < failed.size(); i++) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("cookie", double(failed[i].cookie));
      f.Set("code", ErrnoName(failed[i].err));
      f.Set("errno", double(failed[i].err));
      f.Set("message", failed[i].message);
      fa.Set(uint32_t(i), f);
    }
    out.Set("ok", oka);
    out.Set("failed", fa);
    return out;
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t code;
    if (!CheckOpen(env) || !ParseCode(env, info[0], &code)) return env.Undefined();
    if (info[1].IsUndefined()) return Napi::Number::New(env, double(core_->Drain(code)));
    std::vector<uint32_t> cookies;
    if (!ParseCookies(env, info[1], "drain(code, cookies)", &cookies)) return env.Undefined();
    return Napi::Number::New(env, double(core_->Drain(code, &cookies)));
  }

  Napi::Value PendingJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return Napi::Array::New(env);
    std::vector<PendingGroup> groups = core_->Pending();
    Napi::Array arr = Napi::Array::New(env, groups.size());
    for (size_t i = 0; i < groups.size(); i++) {
      const PendingGroup& g = groups[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("cookie", double(g.cookie));
      o.Set("devId", double(g.dev));
      o.Set("pasid", double(g.pasid));
      o.Set("grpid", double(g.grpid));
      o.Set("readNs", g.read_ns);
      size_t bytes = g.recs.size() * sizeof(iommu_hwpt_pgfault);
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
      if (bytes) memcpy(ab.Data(), g.recs.data(), bytes);
      o.Set("records", ab);
      arr.Set(uint32_t(i), o);
    }
    return arr;
  }

  Napi::Value TotalsJs(const Napi::CallbackInfo& info) {
    if (!core_) return TotalsToJs(info.Env(), Totals());
    return TotalsToJs(info.Env(), core_->GetTotals());
  }

  Napi::Value Inject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (!injector_) {
      ThrowArgError(env, "inject() needs a sim queue, or a kernel queue created with iommufd and "
                         "mockDevId (the selftest mock device)");
      return env.Undefined();
    }
    // --- inject spec parsing: native/src/inject_spec.cc (helper S) ---
    InjectSpec s;
    if (!ParseInjectSpec(env, info[0], core_->sim() != nullptr, &s)) return env.Undefined();
    int rc = injector_->Start(s);
    if (rc != 0)
      ThrowErrno(env, -rc, "inject", "an injection is already running: stopInject() first");
    return env.Undefined();
  }

  Napi::Value InjectProgressJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    InjectProgress p = injector_ ? injector_->Progress() : InjectProgress();
    Napi::Object o = Napi::Object::New(env);
    o.Set("injected", double(p.injected));
    o.Set("failed", double(p.failed));
    o.Set("done", p.done);
    if (!p.last_error.empty()) o.Set("lastError", p.last_error);
    return o;
  }

  Napi::Value StopInject(const Napi::CallbackInfo& info) {
    if (injector_) injector_->Stop();
    return info.Env().Undefined();
  }

  Napi::Value SimDetach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (!core_->sim()) {
      ThrowArgError(env, "simDetach() is only for sim queues (for the kernel, destroy the HWPT)");
      return env.Undefined();
    }
    return Napi::Number::New(env, double(core_->SimDetach()));
  }

  Napi::Value KernelDetached(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (core_->sim()) {
      ThrowArgError(env, "kernelDetached() is for kernel queues (the simulator uses simDetach())");
      return env.Undefined();
    }
    return Napi::Number::New(env, double(core_->RecordKernelDetach()));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closed_ || !core_);
  }

  CorePtr core_;
  std::unique_ptr<Injector> injector_;
  BatchTsfn tsfn_;
  bool tsfn_started_ = false;
  bool closed_ = false;
};

Napi::Value CreateFaultQueue(const Napi::CallbackInfo& info) {
  Napi::FunctionReference* ctor = static_cast<Napi::FunctionReference*>(info.Data());
  return ctor->New({info[0]});
}

}  // namespace

void InitFaultQueue(Napi::Env env, Napi::Object exports) {
  Napi::FunctionReference* ctor = new Napi::FunctionReference();
  *ctor = Napi::Persistent(FaultQueue::Define(env));
  env.AddCleanupHook([ctor]() { delete ctor; });
  exports.Set("createFaultQueue",
              Napi::Function::New(env, CreateFaultQueue, "createFaultQueue", ctor));
}
