// Fault queue state as JS values: FaultBatch, QueueTotals, AnswerFailure and
// PendingGroup (see main/node/native/addon-types.ts). A flush's columns become
// typed arrays over one shared buffer, one copy each.
#include "fault_batch_js.h"

#include <string.h>

#include "engine_js.h"
#include "errors.h"

Napi::Object TotalsToJs(Napi::Env env, const Totals& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("faults", double(t.faults));
  o.Set("groups", double(t.groups));
  o.Set("answered", double(t.answered));
  o.Set("success", double(t.success));
  o.Set("invalid", double(t.invalid));
  o.Set("byUser", double(t.by[kByUser]));
  o.Set("byPolicy", double(t.by[kByPolicy]));
  o.Set("byDrain", double(t.by[kByDrain]));
  o.Set("byKernel", double(t.by[kByKernel]));
  o.Set("pending", double(t.pending));
  o.Set("errors", double(t.errors));
  o.Set("overflow", double(t.overflow));
  o.Set("malformed", double(t.malformed));
  o.Set("reads", double(t.reads));
  return o;
}

napi_value FaultBatchToJs(Napi::Env env, const EngineBatch& eb) {
  const Batch& b = static_cast<const Batch&>(eb);
  Napi::Object o = Napi::Object::New(env);
  o.Set("queue", double(b.queue));
  PackedColumns cols;
  cols.Reserve(b.read_seq);
  cols.Reserve(b.read_cookie);
  cols.Reserve(b.read_first);
  cols.Reserve(b.read_pages);
  cols.Reserve(b.read_ns);
  cols.Reserve(b.ans_seq);
  cols.Reserve(b.ans_cookie);
  cols.Reserve(b.ans_code);
  cols.Reserve(b.ans_by);
  cols.Reserve(b.ans_rule);
  cols.Reserve(b.ans_latency);
  cols.Allocate(env);
  Napi::Object read = Napi::Object::New(env);
  read.Set("group", cols.Take<Napi::Float64Array>(env, b.read_seq));
  read.Set("cookie", cols.Take<Napi::Uint32Array>(env, b.read_cookie));
  read.Set("first", cols.Take<Napi::Uint32Array>(env, b.read_first));
  read.Set("pages", cols.Take<Napi::Uint32Array>(env, b.read_pages));
  read.Set("readNs", cols.Take<Napi::Float64Array>(env, b.read_ns));
  o.Set("read", read);
  o.Set("records", ArrayBufferCopy(env, b.records.data(), b.records.size()));
  Napi::Object answered = Napi::Object::New(env);
  answered.Set("group", cols.Take<Napi::Float64Array>(env, b.ans_seq));
  answered.Set("cookie", cols.Take<Napi::Uint32Array>(env, b.ans_cookie));
  answered.Set("codes", cols.Take<Napi::Uint8Array>(env, b.ans_code));
  answered.Set("by", cols.Take<Napi::Uint8Array>(env, b.ans_by));
  answered.Set("rule", cols.Take<Napi::Int16Array>(env, b.ans_rule));
  answered.Set("latencyNs", cols.Take<Napi::Float64Array>(env, b.ans_latency));
  o.Set("answered", answered);
  Napi::Array errors = Napi::Array::New(env, b.errors.size());
  for (size_t i = 0; i < b.errors.size(); i++) {
    const ErrorEntry& e = b.errors[i];
    Napi::Object eo = Napi::Object::New(env);
    eo.Set("group", e.seq ? Napi::Value(Napi::Number::New(env, double(e.seq))) : env.Null());
    eo.Set("cookie",
           e.has_cookie ? Napi::Value(Napi::Number::New(env, double(e.cookie))) : env.Null());
    eo.Set("code", ErrnoName(e.err));
    eo.Set("errno", double(e.err));
    eo.Set("op", e.op);
    eo.Set("message", e.message);
    errors.Set(uint32_t(i), eo);
  }
  o.Set("errors", errors);
  o.Set("overflow", double(b.overflow));
  o.Set("totals", TotalsToJs(env, b.totals));
  return o;
}

Napi::Object FailureToJs(Napi::Env env, const AnswerFailure& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("group", double(f.seq));
  o.Set("cookie", f.has_cookie ? Napi::Value(Napi::Number::New(env, double(f.cookie))) : env.Null());
  o.Set("code", ErrnoName(f.err));
  o.Set("errno", double(f.err));
  o.Set("message", f.message);
  if (f.has_memo) {
    o.Set("answeredBy", double(f.by));
    o.Set("answeredCode", double(f.code));
    o.Set("answeredAtNs", f.at_ns);
  }
  return o;
}

Napi::Array PendingToJs(Napi::Env env, const std::vector<PendingGroup>& groups) {
  Napi::Array arr = Napi::Array::New(env, groups.size());
  for (size_t i = 0; i < groups.size(); i++) {
    const PendingGroup& g = groups[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("group", double(g.seq));
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
