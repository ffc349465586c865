// The JS FaultQueue (NativeFaultQueue in addon-types.ts) and
// createFaultQueue(). The queue's state lives in FaultQueueCore on the
// event-queue engine; batches reach JS through engine_js.
#include <errno.h>
#include <string.h>

#include <cmath>
#include <memory>

#include "addon_init.h"
#include "args.h"
#include "engine_js.h"
#include "errors.h"
#include "fault_batch_js.h"
#include "fault_core.h"
#include "inject_spec.h"
#include "injector.h"
#include "policy_parse.h"
#include "sim_channel.h"

namespace {

constexpr double kMaxExactSeq = 9007199254740992.0;  // 2^53
// PRI credit above this is no device's: a bound that keeps the sim's memory sane.
constexpr uint32_t kMaxOutstanding = 1u << 24;
constexpr uint32_t kRecordBytes = sizeof(iommu_hwpt_pgfault);

using CorePtr = std::shared_ptr<FaultQueueCore>;

class FaultQueue : public Napi::ObjectWrap<FaultQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "FaultQueue",
        {
            InstanceAccessor<&FaultQueue::Id>("id"),
            InstanceMethod<&FaultQueue::Start>("start"),
            InstanceMethod<&FaultQueue::SetPolicy>("setPolicy"),
            InstanceMethod<&FaultQueue::Respond>("respond"),
            InstanceMethod<&FaultQueue::Drain>("drain"),
            InstanceMethod<&FaultQueue::PendingJs>("pending"),
            InstanceMethod<&FaultQueue::TotalsJs>("totals"),
            InstanceMethod<&FaultQueue::Inject>("inject"),
            InstanceMethod<&FaultQueue::InjectProgressJs>("injectProgress"),
            InstanceMethod<&FaultQueue::InjectTimes>("injectTimes"),
            InstanceMethod<&FaultQueue::StopInject>("stopInject"),
            InstanceMethod<&FaultQueue::SimDetach>("simDetach"),
            InstanceMethod<&FaultQueue::SimRefuseAnswers>("simRefuseAnswers"),
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
    uint32_t max_read = uint32_t(kDefaultMaxReadBytes);
    double flush_ms = 10;
    bool has = false;
    if (!PropU32(env, o, "jsBufferRecords", &js_records, &has) ||
        !PropNumber(env, o, "flushIntervalMs", &flush_ms, &has) ||
        !PropU32(env, o, "maxReadBytes", &max_read, &has))
      return;
    // The kernel's read() takes whole records only (ESPIPE otherwise).
    if (max_read < kRecordBytes || max_read > kDefaultMaxReadBytes || max_read % kRecordBytes) {
      ThrowArgError(env, "options.maxReadBytes must be a multiple of " +
                             std::to_string(kRecordBytes) + " (one record) in " +
                             std::to_string(kRecordBytes) + ".." +
                             std::to_string(kDefaultMaxReadBytes) + ", got " +
                             std::to_string(max_read));
      return;
    }
    opts.max_read_bytes = max_read;
    opts.js_buffer_records = js_records;
    opts.flush_interval_ns = uint64_t(flush_ms * 1e6);
    std::unique_ptr<FaultChannel> channel;
    SimChannel* sim = nullptr;
    if (kind == "sim") {
      if (!PropU32(env, o, "outstandingLimit", &limit, &has)) return;
      if (limit > kMaxOutstanding) {
        ThrowArgError(env, "options.outstandingLimit must be 0..2^24 (" +
                               std::to_string(kMaxOutstanding) +
                               "; 0 = the default 512 groups), got " + std::to_string(limit));
        return;
      }
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

  Napi::Value Id(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_ ? double(core_->id()) : 0);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    tsfn_started_ = StartEngineJs(info, core_, &core_->engine(), FaultBatchToJs, &tsfn_);
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

  static bool ToSeq(Napi::Env env, Napi::Value v, const std::string& what, uint64_t* out) {
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!v.IsNumber() || !(d >= 0) || d > kMaxExactSeq || std::floor(d) != d) {
      ThrowArgError(env, what + " must be a group sequence number (a whole number >= 0, as in "
                                "FaultBatch.read.group)");
      return false;
    }
    *out = uint64_t(d);
    return true;
  }

  // A number[] or Float64Array of group sequence numbers; throws EARG naming `usage` otherwise.
  static bool ParseGroups(Napi::Env env, Napi::Value v, const char* usage,
                          std::vector<uint64_t>* out) {
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
      Napi::Float64Array a = v.As<Napi::Float64Array>();
      out->reserve(a.ElementLength());
      for (size_t i = 0; i < a.ElementLength(); i++) {
        uint64_t s;
        if (!ToSeq(env, Napi::Number::New(env, a[i]), "groups[" + std::to_string(i) + "]", &s))
          return false;
        out->push_back(s);
      }
      return true;
    }
    if (v.IsArray()) {
      Napi::Array a = v.As<Napi::Array>();
      out->reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); i++) {
        uint64_t s;
        if (!ToSeq(env, a.Get(i), "groups[" + std::to_string(i) + "]", &s)) return false;
        out->push_back(s);
      }
      return true;
    }
    ThrowArgError(env, std::string(usage) +
                           ": groups must be a number[] or Float64Array of group sequence numbers");
    return false;
  }

  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    uint32_t code;
    std::vector<uint64_t> groups;
    if (!ParseGroups(env, info[0], "respond(groups, code)", &groups)) return env.Undefined();
    if (!ParseCode(env, info[1], &code)) return env.Undefined();
    std::vector<AnswerFailure> failed;
    std::vector<uint64_t> ok = core_->Respond(groups, code, &failed);
    Napi::Object out = Napi::Object::New(env);
    Napi::Array oka = Napi::Array::New(env, ok.size());
    for (size_t i = 0; i < ok.size(); i++) oka.Set(uint32_t(i), double(ok[i]));
    Napi::Array fa = Napi::Array::New(env, failed.size());
    for (size_t i = 0; i < failed.size(); i++) fa.Set(uint32_t(i), FailureToJs(env, failed[i]));
    out.Set("ok", oka);
    out.Set("failed", fa);
    return out;
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t code;
    if (!CheckOpen(env) || !ParseCode(env, info[0], &code)) return env.Undefined();
    if (info[1].IsUndefined()) return Napi::Number::New(env, double(core_->Drain(code)));
    std::vector<uint64_t> groups;
    if (!ParseGroups(env, info[1], "drain(code, groups)", &groups)) return env.Undefined();
    return Napi::Number::New(env, double(core_->Drain(code, &groups)));
  }

  Napi::Value PendingJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return Napi::Array::New(env);
    return PendingToJs(env, core_->Pending());
  }

  Napi::Value TotalsJs(const Napi::CallbackInfo& info) {
    return TotalsToJs(info.Env(), core_ ? core_->GetTotals() : Totals());
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

  // Bench-only: the trigger times kept by InjectSpec.captureTimes (see injector.h).
  Napi::Value InjectTimes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<double> t = injector_ ? injector_->Times() : std::vector<double>();
    Napi::Float64Array out = Napi::Float64Array::New(env, t.size());
    if (!t.empty()) memcpy(out.Data(), t.data(), t.size() * sizeof(double));
    return out;
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

  Napi::Value SimRefuseAnswers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t count;
    if (!CheckOpen(env) || !ToU32(env, info[0], "count", &count)) return env.Undefined();
    if (!core_->sim()) {
      ThrowArgError(env, "simRefuseAnswers() is only for sim queues");
      return env.Undefined();
    }
    core_->sim()->RefuseNextAnswers(count);
    return env.Undefined();
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
  EngineTsfn tsfn_;
  bool tsfn_started_ = false;
  bool closed_ = false;
};

}  // namespace

void InitFaultQueue(Napi::Env env, Napi::Object exports) {
  ExportQueueFactory<FaultQueue>(env, exports, "createFaultQueue");
}
