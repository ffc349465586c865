// FaultQueueCore, answer side: page responses written with the kernel's
// partial-write rules, user/drain/policy/delay answers by sequence number,
// ESTALE explanations, and the 'map' action.
#include <errno.h>
#include <stdio.h>

#include <algorithm>

#include "anon_memory.h"
#include "errno_text.h"
#include "fault_core.h"
#include "group_seq.h"
#include "uapi.h"

namespace {
constexpr size_t kMaxErrorsPerBatch = 1024;  // totals.errors counts every one
constexpr size_t kWriteChunk = 4096;         // responses per write() for large drains
constexpr uint64_t kPage = 4096;

const char* ByName(uint8_t by) {
  switch (by) {
    case kByUser:
      return "the user";
    case kByPolicy:
      return "the policy";
    case kByDrain:
      return "the drain";
    default:
      return "the kernel (domain detached or replaced, or the cookie no longer known)";
  }
}

std::string Ago(double ns) {
  char buf[48];
  if (ns >= 1e8) snprintf(buf, sizeof buf, "%.1f s ago", ns / 1e9);
  else if (ns >= 1e6) snprintf(buf, sizeof buf, "%.0f ms ago", ns / 1e6);
  else snprintf(buf, sizeof buf, "%.0f us ago", ns / 1e3);
  return buf;
}

std::string RefusedMessage(uint64_t seq, uint32_t cookie, int err) {
  return "the fault queue refused the answer for group " + std::to_string(seq) + " (cookie " +
         std::to_string(cookie) + "): " + ErrnoText(err) +
         (err == EINVAL ? " (the kernel no longer knows this cookie: it answered the group "
                          "INVALID itself, e.g. when the domain was detached); recorded as "
                          "answered by the kernel"
                        : "; it stays pending");
}
}  // namespace

void FaultQueueCore::RecordAnsweredLocked(uint64_t seq, uint32_t cookie, uint32_t code,
                                          uint8_t by, int16_t rule, double latency, double now) {
  totals_.answered++;
  if (code == 0) totals_.success++;
  else totals_.invalid++;
  totals_.by[by]++;
  buf_.ans_seq.push_back(double(seq));
  buf_.ans_cookie.push_back(cookie);
  buf_.ans_code.push_back(uint8_t(code));
  buf_.ans_by.push_back(by);
  buf_.ans_rule.push_back(rule);
  buf_.ans_latency.push_back(latency);
  memo_[seq & (memo_.size() - 1)] = {seq, now, cookie, uint8_t(code), by};
}

// RecordAnsweredLocked for `k` answers that one write accepted: the columns
// grow once, the totals once.
void FaultQueueCore::RecordWrittenLocked(const OutAnswer* a, size_t k, uint8_t by, double now) {
  const size_t base = buf_.ans_seq.size();
  buf_.ans_seq.resize(base + k);
  buf_.ans_cookie.resize(base + k);
  buf_.ans_code.resize(base + k);
  buf_.ans_by.resize(base + k, by);
  buf_.ans_rule.resize(base + k);
  buf_.ans_latency.resize(base + k);
  double* seq = buf_.ans_seq.data() + base;
  uint32_t* cookie = buf_.ans_cookie.data() + base;
  uint8_t* code = buf_.ans_code.data() + base;
  int16_t* rule = buf_.ans_rule.data() + base;
  double* latency = buf_.ans_latency.data() + base;
  const size_t memo_mask = memo_.size() - 1;
  uint64_t success = 0;
  for (size_t i = 0; i < k; i++) {
    const OutAnswer& x = a[i];
    seq[i] = double(x.seq);
    cookie[i] = x.cookie;
    code[i] = uint8_t(x.code);
    rule[i] = x.rule;
    latency[i] = now - x.read_ns;
    success += x.code == 0;
    memo_[x.seq & memo_mask] = {x.seq, now, x.cookie, uint8_t(x.code), by};
  }
  totals_.answered += k;
  totals_.success += success;
  totals_.invalid += k - success;
  totals_.by[by] += k;
}

void FaultQueueCore::RecordErrorLocked(uint64_t seq, bool has_cookie, uint32_t cookie, int err,
                                       const std::string& op, const std::string& msg) {
  totals_.errors++;
  if (buf_.errors.size() < kMaxErrorsPerBatch)
    buf_.errors.push_back({seq, has_cookie, cookie, err, op, msg});
}

AnswerFailure FaultQueueCore::StaleLocked(uint64_t seq, const char* twice) const {
  AnswerFailure f = {seq, false, 0, ESTALE, "", false, 0, 0, 0};
  const std::string g = "group " + std::to_string(seq);
  const std::string here = "fault queue " + std::to_string(id_);
  const Memo& m = memo_[seq & (memo_.size() - 1)];
  if (twice) {
    f.message = g + " " + twice;
  } else if (m.seq == seq && seq != 0) {
    f.has_cookie = true;
    f.cookie = m.cookie;
    f.has_memo = true;
    f.by = m.by;
    f.code = m.code;
    f.at_ns = m.at_ns;
    f.message = g + " (cookie " + std::to_string(m.cookie) + ") was already answered " +
                (m.code == 0 ? "success" : "invalid") + " by " + ByName(m.by) + " " +
                Ago(double(MonotonicNs()) - m.at_ns) + "; nothing was written";
  } else if (seq == 0 || seq > LastIssuedGroupSeq()) {
    f.message = g + " was never read: no group has that number yet (the last one read is " +
                std::to_string(LastIssuedGroupSeq()) + "); nothing was written";
  } else {
    uint32_t owner = GroupSeqOwner(seq);
    if (owner != 0 && owner != (id_ & 0xffff)) {
      f.message = g + " belongs to fault queue " + std::to_string(owner) + ", not " + here +
                  "; nothing was written";
    } else if (owner != 0) {
      f.message = g + " is no longer pending on " + here +
                  ": it was answered too long ago to say by whom; nothing was written";
    } else {
      f.message = g + " is not pending on " + here +
                  ": it was read by another queue, or answered too long ago to say by whom; "
                  "nothing was written";
    }
  }
  return f;
}

void FaultQueueCore::WriteAnswersLocked(std::vector<OutAnswer>& out, uint8_t by,
                                        std::vector<uint64_t>* ok,
                                        std::vector<AnswerFailure>* failed, bool report) {
  const size_t m = out.size();
  resp_.resize(m);
  for (size_t i = 0; i < m; i++) resp_[i] = {out[i].cookie, out[i].code};
  size_t off = 0;
  while (off < m) {
    size_t len = std::min(m - off, kWriteChunk);
    ssize_t n = channel_->Write(&resp_[off], len * sizeof resp_[0]);
    double now = double(MonotonicNs());
    if (n > 0) {
      // The channel may accept only part of the batch: these went through.
      size_t k = size_t(n) / sizeof resp_[0];
      RecordWrittenLocked(&out[off], k, by, now);
      for (size_t i = off; i < off + k; i++) {
        OutAnswer& a = out[i];
        if (a.entry) table_.Erase(*a.entry);
        if (ok) ok->push_back(a.seq);
      }
      off += k;
      continue;
    }
    // The first response of the rest was refused. Codes are checked before
    // writing, so EINVAL means the kernel no longer knows the cookie: it has
    // answered that group INVALID itself, and so it is recorded. Any other
    // error leaves the group pending (or makes it so) for another answer.
    int err = n < 0 ? int(-n) : EIO;
    OutAnswer& a = out[off];
    PendingEntry& e = a.entry ? *a.entry : HoldLocked(a);
    e.claimed = false;
    e.delayed = false;
    if (err == EINVAL) KernelAnsweredLocked(e, now);
    std::string msg = RefusedMessage(a.seq, a.cookie, err);
    if (failed) failed->push_back({a.seq, true, a.cookie, err, msg, false, 0, 0, 0});
    if (report) RecordErrorLocked(a.seq, true, a.cookie, err, "write", msg);
    off++;
  }
  out.clear();
}

std::vector<uint64_t> FaultQueueCore::Respond(const std::vector<uint64_t>& seqs, uint32_t code,
                                              std::vector<AnswerFailure>* failed) {
  std::vector<uint64_t> ok;
  {
    std::lock_guard<std::mutex> lock(engine_.mu());
    std::vector<OutAnswer> out;
    out.reserve(seqs.size());
    for (uint64_t seq : seqs) {
      PendingEntry* e = table_.Find(seq);
      if (!e) {
        failed->push_back(StaleLocked(seq, nullptr));
      } else if (e->claimed) {
        failed->push_back(StaleLocked(seq, "is listed twice in this respond() call; it is "
                                           "answered once"));
        failed->back().has_cookie = true;
        failed->back().cookie = e->cookie;
      } else {
        e->claimed = true;  // every claimed entry is erased or unclaimed by the write
        out.push_back({seq, e->cookie, code, -1, e->read_ns, e, nullptr, e->pages, 0});
      }
    }
    ok.reserve(out.size());
    WriteAnswersLocked(out, kByUser, &ok, failed, false);
    table_.Compact();
  }
  engine_.Wake();  // so the answers reach JS in the next flush
  return ok;
}

size_t FaultQueueCore::Drain(uint32_t code, const std::vector<uint64_t>* only) {
  size_t before;
  size_t answered;
  {
    std::lock_guard<std::mutex> lock(engine_.mu());
    before = totals_.by[kByDrain];
    std::vector<OutAnswer> out;
    auto add = [&](PendingEntry& e) {
      e.claimed = true;
      out.push_back({e.seq, e.cookie, code, -1, e.read_ns, &e, nullptr, e.pages, 0});
    };
    if (only) {
      // A filtered drain: the caller picked the groups from a view that may
      // be stale, so groups no longer pending (or repeated) are skipped, not errors.
      out.reserve(only->size());
      for (uint64_t seq : *only) {
        PendingEntry* e = table_.Find(seq);
        if (e && !e->claimed) add(*e);
      }
    } else {
      out.reserve(table_.size());
      table_.ForEach(add);
    }
    WriteAnswersLocked(out, kByDrain, nullptr, nullptr, true);
    table_.Compact();
    answered = size_t(totals_.by[kByDrain] - before);
  }
  engine_.Wake();
  return answered;
}

uint64_t FaultQueueCore::NextDueLocked() const { return delays_.empty() ? 0 : delays_.top().due_ns; }

void FaultQueueCore::FireDueLocked(uint64_t now) {
  if (delays_.empty() || delays_.top().due_ns > now) return;
  std::vector<OutAnswer> out;
  while (!delays_.empty() && delays_.top().due_ns <= now) {
    Delayed d = delays_.top();
    delays_.pop();
    PendingEntry* e = table_.Find(d.seq);
    if (!e || !e->delayed || e->claimed) continue;  // answered first by someone else
    e->claimed = true;
    out.push_back({d.seq, e->cookie, d.code, d.rule, e->read_ns, e, nullptr, e->pages, 0});
  }
  WriteAnswersLocked(out, kByPolicy, nullptr, nullptr, true);
  table_.Compact();
}

// Map a fresh page at each faulting page (FIXED_IOVA, permissions from the
// request); returns Success, or Invalid (reported) when a map fails.
uint32_t FaultQueueCore::MapGroupLocked(uint64_t seq, const iommu_hwpt_pgfault* recs,
                                        uint32_t n) {
  int err = 0;
  uint64_t bad = 0;
  for (uint32_t i = 0; i < n; i++) {
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
  RecordErrorLocked(seq, true, recs[0].cookie, err, "map",
                    "map action: IOMMU_IOAS_MAP at " + std::string(addr) + " for group " +
                        std::to_string(seq) + " (cookie " + std::to_string(recs[0].cookie) +
                        ") failed: " + ErrnoText(err) + "; answering INVALID");
  return 1;
}
