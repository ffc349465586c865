// The pipeline's native core without Node, on the kernel's selftest mock
// fault queue: FaultQueueCore on the event engine and the kernel channel,
// policy `success`, fed by the addon's Injector, exactly as bench/faults-mock.ts
// runs them inside Node, except that this program's main thread takes the
// batches the JS thread would (one in flight, handed back with FlushDone).
// bench/faults.ts runs it beside c_fault_loop.c and the pipeline: what the
// pipeline costs beyond this is the Node process it runs in, not our code.
//
//   usage: core_mock_loop [N [RATE]]   as c_fault_loop, and the same JSON line
//
// Latency as the pipeline measures it: the injector's trigger time (captured
// just before TRIGGER_IOPF) to the group's readNs + latencyNs.
//
// Build: buildNativeProgram('core_mock_loop') in test/shared/native-programs.ts
//   (this file, mock_queue.c and NATIVE_CORE_SOURCES; no N-API headers)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fault_core.h"
#include "injector.h"
#include "mock_queue.h"

namespace {
constexpr auto kStallLimit = std::chrono::seconds(5);
constexpr unsigned long kWarmUp = 2000;  // requests, before the measured run

[[noreturn]] void Fail(const std::string& why) {
  fprintf(stderr, "core_mock_loop: %s\n", why.c_str());
  exit(1);
}

// Batches as the JS thread gets them: the engine hands over one at a time.
class BatchInbox {
 public:
  bool Push(EngineBatch* b) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(b);
    cv_.notify_one();
    return true;
  }
  EngineBatch* Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kStallLimit, [this] { return !q_.empty(); })) return nullptr;
    EngineBatch* b = q_.front();
    q_.pop_front();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EngineBatch*> q_;
};

// One run of `total` requests at `rate`, measured as bench/faults-mock.ts does.
void Measure(FaultQueueCore& core, Injector& injector, BatchInbox& inbox, unsigned long total,
             double rate, bool report) {
  InjectSpec spec;
  spec.count = total;
  spec.rate = rate;
  spec.perm = IOMMU_PGFAULT_PERM_READ;
  spec.addr = MOCK_BASE_IOVA;
  spec.capture_times = uint32_t(total);
  if (int rc = injector.Start(spec); rc != 0)
    Fail("starting the injector: " + std::string(strerror(-rc)));

  // Per request (by address): when read() returned it and when its answer's write() returned.
  std::vector<double> read_at(total, 0), answered_at(total, 0);
  std::unordered_map<double, unsigned long> request_of;  // group sequence number → request
  request_of.reserve(total);
  unsigned long answered = 0;
  double last_answer_ns = 0;
  while (answered < total) {
    EngineBatch* eb = inbox.Pop();
    if (!eb)
      Fail("no batch within 5 s: " + std::to_string(answered) + " of " + std::to_string(total) +
           " answered");
    const uint64_t handling_ns = MonotonicNs();
    const Batch& b = *static_cast<const Batch*>(eb);
    if (b.totals.errors) Fail(std::to_string(b.totals.errors) + " read or write errors");
    for (size_t i = 0; i < b.read_seq.size(); i++) {
      if (b.read_first[i] == kRecordsLeftOut) Fail("a group's records were left out of its batch");
      uint64_t addr;
      const size_t at = size_t(b.read_first[i]) * sizeof(iommu_hwpt_pgfault);
      memcpy(&addr, b.records.data() + at + offsetof(iommu_hwpt_pgfault, addr), sizeof addr);
      const unsigned long r = (addr - MOCK_BASE_IOVA) / 4096;
      if (r >= total) Fail("a page request at an address no request used");
      request_of[b.read_seq[i]] = r;
      read_at[r] = b.read_ns[i];
    }
    for (size_t j = 0; j < b.ans_seq.size(); j++) {
      auto it = request_of.find(b.ans_seq[j]);
      if (it == request_of.end()) Fail("an answer for a group never read");
      const double t = read_at[it->second] + b.ans_latency[j];
      answered_at[it->second] = t;
      if (t > last_answer_ns) last_answer_ns = t;
    }
    answered += b.ans_seq.size();
    core.engine().FlushDone(std::unique_ptr<EngineBatch>(eb), handling_ns);
  }
  while (!injector.Progress().done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const InjectProgress progress = injector.Progress();
  if (progress.failed) Fail("injection failed: " + progress.last_error);
  if (!report) return;

  const std::vector<double> triggers = injector.Times();
  std::vector<double> lat(total), to_read(total);
  for (unsigned long r = 0; r < total; r++) {
    lat[r] = answered_at[r] - triggers[r];
    to_read[r] = read_at[r] - triggers[r];
  }
  mock_report(total, rate, (last_answer_ns - triggers[0]) / 1e9, lat.data(), to_read.data());
}
}  // namespace

int main(int argc, char** argv) {
  const unsigned long total = argc > 1 ? strtoul(argv[1], nullptr, 0) : 100000;
  const double rate = argc > 2 ? strtod(argv[2], nullptr) : 0;
  if (total == 0 || total > 100000000ul || !(rate >= 0)) {
    fprintf(stderr,
            "usage: core_mock_loop [N [RATE]]   (1 <= N <= 1e8 page requests, RATE/s >= 0)\n");
    return 2;
  }
  mock_queue mq;
  mock_queue_open(&mq, "core_mock_loop");

  QueueOptions opts;
  opts.iommufd = mq.iommufd;
  opts.has_mock_dev = true;
  opts.mock_dev = mq.idev;
  FaultQueueCore core(MakeKernelChannel(mq.fault_fd), nullptr, opts);
  Policy policy;
  policy.fallback.kind = ActionKind::Success;
  core.SetPolicy(policy);
  BatchInbox inbox;
  if (int rc = core.engine().Start([&inbox](EngineBatch* b) { return inbox.Push(b); }); rc != 0)
    Fail("starting the event engine: " + std::string(strerror(-rc)));

  // A fresh process pays for its first touches of every buffer (page faults,
  // slow under TCG); the pipeline runs in a long-lived Node process: warm up first.
  Injector injector(nullptr, mq.iommufd, mq.idev);
  Measure(core, injector, inbox, kWarmUp, 0, false);
  Measure(core, injector, inbox, total, rate, true);
  core.Stop();
  return 0;
}
