// FaultQueueCore, answer side: batched page responses with the kernel's
// partial-write semantics, user/drain/policy/delay answers, the 'map' action.
#include <errno.h>
#include <stdio.h>

#include <set>

#include "anon_memory.h"
#include "errors.h"
#include "fault_core.h"
#include "uapi.h"

namespace {
constexpr size_t kMaxErrorsPerBatch = 1024;  // totals.errors counts every one
constexpr uint64_t kMinAnsweredBuffer = 65536;
constexpr uint64_t kPage = 4096;
}  // namespace

void FaultQueueCore::SetPolicy(Policy p) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(p);  // applies to groups read from now on
}

void FaultQueueCore::RecordAnsweredLocked(uint32_t cookie, uint32_t code, uint8_t by, int16_t rule,
                                          double latency) {
  totals_.answered++;
  if (code == 0) totals_.success++;
  else totals_.invalid++;
  uint64_t cap = opts_.js_buffer_records > kMinAnsweredBuffer ? opts_.js_buffer_records
                                                               : kMinAnsweredBuffer;
  if (buf_.answered.size() < cap) {
    buf_.answered.push_back({cookie, uint8_t(code), by, rule, latency});
  } else {
    buf_.answered_overflow++;
  }
}

void FaultQueueCore::RecordErrorLocked(uint32_t cookie, int err, const std::string& op,
                                       const std::string& msg) {
  totals_.errors++;
  if (buf_.errors.size() < kMaxErrorsPerBatch) buf_.errors.push_back({cookie, err, op, msg});
}

static std::string RefusedMessage(uint32_t cookie, int err) {
  return "the fault queue refused the answer for cookie " + std::to_string(cookie) + ": " +
         ErrnoText(err) +
         (err == EINVAL ? " (the kernel no longer knows this cookie, e.g. the "
                          "domain was detached); it stays pending here"
                        : "; it stays pending");
}

std::vector<uint32_t> FaultQueueCore::AnswerLocked(const std::vector<AnswerRequest>& req,
                                                   uint8_t by, std::vector<AnswerFailure>* failed,
                                                   bool report) {
  std::vector<uint32_t> ok;
  std::vector<iommu_hwpt_page_response> resp;
  std::vector<int16_t> rules;
  std::vector<std::map<uint32_t, PendingGroup>::iterator> groups;
  auto fail = [&](uint32_t cookie, int err, const std::string& msg) {
    if (failed) failed->push_back({cookie, err, msg});
    if (report) RecordErrorLocked(cookie, err, "write", msg);
  };
  for (const AnswerRequest& r : req) {
    auto it = r.code > 1 ? table_.end() : table_.find(r.cookie);
    if (r.code > 1) {
      fail(r.cookie, EINVAL, "cannot answer cookie " + std::to_string(r.cookie) + " with code " +
                                 std::to_string(r.code) + ": use 0 (success) or 1 (invalid)");
    } else if (it == table_.end() || it->second.claimed) {
      fail(r.cookie, ESTALE,
           "cookie " + std::to_string(r.cookie) +
               " is not pending: it was never read from this queue or is already answered");
    } else {
      it->second.claimed = true;  // every claimed group is erased or unclaimed below
      resp.push_back({r.cookie, r.code});
      rules.push_back(r.rule);
      groups.push_back(it);
    }
  }
  size_t off = 0;
  while (off < resp.size()) {
    ssize_t n = channel_->Write(&resp[off], (resp.size() - off) * sizeof resp[0]);
    double now = double(MonotonicNs());
    if (n > 0) {
      // The channel may accept only part of the batch: these went through.
      size_t k = size_t(n) / sizeof resp[0];
      for (size_t i = off; i < off + k; i++) {
        double latency = now - groups[i]->second.read_ns;
        table_.erase(groups[i]);
        RecordAnsweredLocked(resp[i].cookie, resp[i].code, by, rules[i], latency);
        ok.push_back(resp[i].cookie);
      }
      off += k;
      continue;
    }
    // The first response of the rest failed: report it, keep it pending, go on.
    int err = n < 0 ? int(-n) : EIO;
    groups[off]->second.delayed = false;
    groups[off]->second.claimed = false;
    fail(resp[off].cookie, err, RefusedMessage(resp[off].cookie, err));
    off++;
  }
  return ok;
}

// Writes the automatic answers collected so far. A group whose answer the
// channel refuses enters the pending table (reported), as if held.
void FaultQueueCore::WriteAutoAnswersLocked(double read_ns) {
  size_t m = auto_.size();
  resp_.resize(m);
  for (size_t i = 0; i < m; i++) resp_[i] = {auto_[i].recs[0].cookie, auto_[i].code};
  size_t off = 0;
  while (off < m) {
    ssize_t n = channel_->Write(&resp_[off], (m - off) * sizeof resp_[0]);
    double now = double(MonotonicNs());
    if (n > 0) {
      size_t k = size_t(n) / sizeof resp_[0];
      for (size_t i = off; i < off + k; i++)
        RecordAnsweredLocked(resp_[i].cookie, resp_[i].code, kByPolicy, auto_[i].rule,
                             now - read_ns);
      off += k;
      continue;
    }
    int err = n < 0 ? int(-n) : EIO;
    InsertPendingLocked(auto_[off].recs, auto_[off].n, read_ns);
    RecordErrorLocked(resp_[off].cookie, err, "write", RefusedMessage(resp_[off].cookie, err));
    off++;
  }
  auto_.clear();
}

std::vector<uint32_t> FaultQueueCore::Answer(const std::vector<AnswerRequest>& req, uint8_t by,
                                             std::vector<AnswerFailure>* failed) {
  std::vector<uint32_t> ok;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ok = AnswerLocked(req, by, failed, false);
  }
  Wake();  // so the answers reach JS in the next flush
  return ok;
}

size_t FaultQueueCore::Drain(uint32_t code, const std::vector<uint32_t>* only) {
  size_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<AnswerRequest> req;
    if (only) {
      // A filtered drain: the caller picked the groups from a view that may
      // be stale, so cookies no longer pending (or repeated) are skipped, not errors.
      std::set<uint32_t> seen;
      req.reserve(only->size());
      for (uint32_t c : *only)
        if (table_.count(c) && seen.insert(c).second) req.push_back({c, code, -1});
    } else {
      req.reserve(table_.size());
      for (auto& kv : table_) req.push_back({kv.first, code, -1});
    }
    n = AnswerLocked(req, kByDrain, nullptr, true).size();
  }
  Wake();
  return n;
}

void FaultQueueCore::FireDueDelays(uint64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AnswerRequest> due;
  while (!delays_.empty() && delays_.top().due_ns <= now) {
    Delayed d = delays_.top();
    delays_.pop();
    auto it = table_.find(d.cookie);
    if (it != table_.end() && it->second.delayed) due.push_back({d.cookie, d.code, d.rule});
  }
  if (!due.empty()) AnswerLocked(due, kByPolicy, nullptr, true);
}

// Map a fresh page at each faulting page (FIXED_IOVA, permissions from the
// request); returns Success, or Invalid (reported) when a map fails.
uint32_t FaultQueueCore::MapGroupLocked(const iommu_hwpt_pgfault* recs, size_t n) {
  int err = 0;
  uint64_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    const iommu_hwpt_pgfault& r = recs[i];
    uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA;
    if (r.perm & IOMMU_PGFAULT_PERM_READ) flags |= IOMMU_IOAS_MAP_READABLE;
    if (r.perm & IOMMU_PGFAULT_PERM_WRITE) flags |= IOMMU_IOAS_MAP_WRITEABLE;
    if (!(flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)))
      flags |= IOMMU_IOAS_MAP_READABLE;  // exec-only requests still need a readable page
    uint64_t iova = r.addr & ~(kPage - 1);
    int rc = AnonMapIntoIoas(opts_.iommufd, opts_.ioas, kPage, &iova, flags);
    if (rc == -EEXIST) continue;  // another page of this group (or an earlier fault) mapped it
    if (rc != 0) {
      err = -rc;
      bad = r.addr;
      break;
    }
  }
  if (!err) return 0;
  char addr[32];
  snprintf(addr, sizeof addr, "0x%llx", static_cast<unsigned long long>(bad));
  RecordErrorLocked(recs[0].cookie, err, "map",
                    "map action: IOMMU_IOAS_MAP at " + std::string(addr) + " for cookie " +
                        std::to_string(recs[0].cookie) + " failed: " + ErrnoText(err) +
                        "; answering INVALID");
  return 1;
}
