// SimChannel on its own, the cases the mock device cannot make (multi-page
// groups, PRI credit, refused answers), one named step each, negative cases
// next to positive ones. Prints "ok - step" / "not ok - step: why"; exits 1
// when any step failed. Run by test/native/sim-channel.test.ts.
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "lowest_free_ids.h"
#include "sim_channel.h"

namespace {

int failures = 0;
std::string step_name;
bool step_ok = true;

void Step(const std::string& name) { step_name = name, step_ok = true; }
void Done() {
  if (step_ok) printf("ok - %s\n", step_name.c_str());
  else failures++;
}
#define EXPECT_EQ(a, b)                                                                      \
  do {                                                                                       \
    long long va = (long long)(a), vb = (long long)(b);                                      \
    if (va != vb) {                                                                          \
      if (step_ok) printf("not ok - %s\n", step_name.c_str());                               \
      printf("  line %d: %s == %lld, expected %s == %lld\n", __LINE__, #a, va, #b, vb);      \
      step_ok = false;                                                                       \
    }                                                                                        \
  } while (0)

constexpr size_t kRec = sizeof(iommu_hwpt_pgfault);
std::atomic<bool> no_stop{false};

int Inject(SimChannel& s, uint32_t pages, uint32_t grpid = 0) {
  return s.InjectGroup(1, 0, grpid, 1, 0x100000, pages, &no_stop);
}

// Reads into a buffer of `records` records; returns bytes or -errno and the cookies.
ssize_t ReadN(SimChannel& s, size_t records, std::vector<iommu_hwpt_pgfault>* out = nullptr) {
  std::vector<iommu_hwpt_pgfault> buf(records + 1);
  ssize_t n = s.Read(buf.data(), records * kRec);
  if (out) out->assign(buf.begin(), buf.begin() + (n > 0 ? n / ssize_t(kRec) : 0));
  return n;
}

ssize_t Answer(SimChannel& s, std::vector<uint32_t> cookies, uint32_t code = 0) {
  std::vector<iommu_hwpt_page_response> r;
  for (uint32_t c : cookies) r.push_back({c, code});
  return s.Write(r.data(), r.size() * sizeof r[0]);
}

bool Readable(SimChannel& s) {
  struct pollfd p = {s.PollFd(), POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void MultiPageGroups() {
  Step("a 3-page group: a 2-record buffer is EINVAL, a 3-record buffer reads it whole");
  {
    SimChannel s(0);
    EXPECT_EQ(Inject(s, 3), 0);
    EXPECT_EQ(ReadN(s, 2), -EINVAL);
    EXPECT_EQ(Readable(s), true);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 3, &r), 3 * kRec);
    EXPECT_EQ(r[0].flags, 0);
    EXPECT_EQ(r[2].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
    EXPECT_EQ(r[1].addr, 0x101000);
    EXPECT_EQ(r[2].cookie, 1);
    EXPECT_EQ(Readable(s), false);
  }
  Done();
  Step("257-page and 300-page groups: each needs a buffer of its size, both fit in 557");
  {
    SimChannel s(0);
    EXPECT_EQ(Inject(s, 257, 1), 0);
    EXPECT_EQ(Inject(s, 300, 2), 0);
    EXPECT_EQ(ReadN(s, 256), -EINVAL);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 556, &r), 257 * kRec);  // the second group does not fit the rest
    EXPECT_EQ(r.back().flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
    EXPECT_EQ(r.back().cookie, 1);
    EXPECT_EQ(ReadN(s, 299), -EINVAL);
    EXPECT_EQ(ReadN(s, 300, &r), 300 * kRec);
    EXPECT_EQ(r[0].grpid, 2);
    EXPECT_EQ(r[299].cookie, 2);
    EXPECT_EQ(r[299].addr, 0x100000 + 299 * 4096);
    EXPECT_EQ(Answer(s, {1, 2}), 16);
    EXPECT_EQ(Inject(s, 257, 3), 0);
    EXPECT_EQ(Inject(s, 300, 4), 0);
    EXPECT_EQ(ReadN(s, 557, &r), 557 * kRec);
    EXPECT_EQ(r[256].cookie, 1);
    EXPECT_EQ(r[257].cookie, 2);
    EXPECT_EQ(s.GetStats().queued_records, 0);
  }
  Done();
}

void Cookies() {
  Step("fresh cookies: lowest free from 1 (0 busy), reused as soon as answered");
  {
    SimChannel s(0);
    for (int i = 0; i < 5; i++) Inject(s, 1);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 5, &r), 5 * kRec);
    EXPECT_EQ(r[0].cookie, 1);
    EXPECT_EQ(r[4].cookie, 5);
    EXPECT_EQ(Answer(s, {4, 2}), 16);
    for (int i = 0; i < 3; i++) Inject(s, 1);
    EXPECT_EQ(ReadN(s, 5, &r), 3 * kRec);
    EXPECT_EQ(r[0].cookie, 2);
    EXPECT_EQ(r[1].cookie, 4);
    EXPECT_EQ(r[2].cookie, 6);
    EXPECT_EQ(Answer(s, {0}), -EINVAL);
    EXPECT_EQ(Answer(s, {7}), -EINVAL);
  }
  Done();
  Step("cookies: 0 stays reserved when every group was answered (as the kernel)");
  {
    SimChannel s(0);
    Inject(s, 1);
    Inject(s, 1);
    EXPECT_EQ(ReadN(s, 2), 2 * kRec);
    EXPECT_EQ(Answer(s, {2, 1}), 16);
    Inject(s, 1);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 2, &r), kRec);
    EXPECT_EQ(r[0].cookie, 1);
    EXPECT_EQ(Answer(s, {1}), 8);
    EXPECT_EQ(Answer(s, {0}), -EINVAL);  // nothing pending: changes nothing
    Inject(s, 1);
    EXPECT_EQ(ReadN(s, 2, &r), kRec);
    EXPECT_EQ(r[0].cookie, 1);
  }
  Done();
  Step("cookies: answering 0 while a group is pending is EINVAL and frees 0 for good");
  {
    SimChannel s(0);
    Inject(s, 1);
    EXPECT_EQ(ReadN(s, 1), kRec);
    EXPECT_EQ(Answer(s, {0}), -EINVAL);
    Inject(s, 1);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 2, &r), kRec);
    EXPECT_EQ(r[0].cookie, 0);
    EXPECT_EQ(Answer(s, {0, 1}), 16);
    Inject(s, 1);
    EXPECT_EQ(ReadN(s, 2, &r), kRec);
    EXPECT_EQ(r[0].cookie, 0);  // an ordinary id now, also after emptying
    EXPECT_EQ(Answer(s, {0}), 8);
    EXPECT_EQ(Answer(s, {0}), -EINVAL);
  }
  Done();
  Step("cookie bitmap stays the size of the peak in use after 10^6 answers");
  {
    LowestFreeIds ids;
    std::vector<uint32_t> live;
    uint32_t id = 0;
    for (int i = 0; i < 512; i++) {
      EXPECT_EQ(ids.Take(&id), true);
      live.push_back(id);
    }
    EXPECT_EQ(live[0], 1);  // fresh: 0 is busy
    for (uint64_t i = 0; i < 1000000; i++) {
      uint32_t& slot = live[(i * 7919) % live.size()];
      EXPECT_EQ(ids.Release(slot), true);
      EXPECT_EQ(ids.Take(&slot), true);
      if (!step_ok) break;
    }
    EXPECT_EQ(ids.Count(), 512);
    EXPECT_EQ(ids.List().back() <= 512, true);
    EXPECT_EQ(ids.Capacity() <= 128, true);  // 513 bits in 9 words, vector slack included
    EXPECT_EQ(ids.Release(0), false);
    EXPECT_EQ(ids.Release(9999), false);
  }
  Done();
}

void Refusal() {
  Step("RefuseNextAnswers(2): two answers fail EINVAL and their groups are forgotten");
  {
    SimChannel s(0);
    for (int i = 0; i < 3; i++) Inject(s, 1);
    EXPECT_EQ(ReadN(s, 3), 3 * kRec);
    s.RefuseNextAnswers(2);
    EXPECT_EQ(Answer(s, {1}, 5), -EINVAL);  // a bad code is refused first, not counted
    EXPECT_EQ(Answer(s, {1, 2, 3}), -EINVAL);
    EXPECT_EQ(s.GetStats().awaiting_groups, 2);  // 1 forgotten: the kernel answered it
    EXPECT_EQ(Answer(s, {2}), -EINVAL);
    EXPECT_EQ(Answer(s, {3}), 8);  // the switch is used up
    EXPECT_EQ(s.GetStats().refused, 2);
    EXPECT_EQ(s.GetStats().awaiting_groups, 0);
    Inject(s, 1);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 1, &r), kRec);
    EXPECT_EQ(r[0].cookie, 1);  // forgotten cookies are free again; 0 stays reserved
  }
  Done();
  Step("RefuseNextAnswers: a refusal mid-batch keeps the answers before it");
  {
    SimChannel s(0);
    for (int i = 0; i < 3; i++) Inject(s, 1);
    EXPECT_EQ(ReadN(s, 3), 3 * kRec);
    EXPECT_EQ(Answer(s, {1}), 8);
    s.RefuseNextAnswers(1);
    EXPECT_EQ(Answer(s, {2, 3}), -EINVAL);
    EXPECT_EQ(Answer(s, {3}), 8);
    s.RefuseNextAnswers(0);
    EXPECT_EQ(s.GetStats().refused, 1);
  }
  Done();
}

void Credit() {
  Step("outstanding 0 means the default credit of 512 groups");
  {
    SimChannel s(0);
    EXPECT_EQ(s.GetStats().outstanding, SimChannel::kDefaultOutstanding);
    EXPECT_EQ(SimChannel::kDefaultOutstanding, 512);
  }
  Done();
  Step("credit 4: the device stalls on the 5th group until one is answered");
  {
    SimChannel s(4);
    std::atomic<int> injected{0};
    std::atomic<bool> stop{false};
    std::thread dev([&] {
      for (int i = 0; i < 6; i++) {
        if (s.InjectGroup(1, 0, i, 1, 0, 2, &stop) != 0) return;
        injected++;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(injected.load(), 4);
    EXPECT_EQ(ReadN(s, 8), 8 * kRec);  // read but unanswered still holds the credit
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(injected.load(), 4);
    EXPECT_EQ(Answer(s, {1}), 8);
    for (int i = 0; i < 200 && injected.load() < 5; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(injected.load(), 5);
    SimChannel::Stats st = s.GetStats();
    EXPECT_EQ(st.queued_groups + st.awaiting_groups, 4);
    stop = true;
    s.WakeInjectors();
    dev.join();
    EXPECT_EQ(injected.load(), 5);
  }
  Done();
  Step("10^6 groups through credit 512: memory never holds more than 512 groups");
  {
    SimChannel s(0);
    std::atomic<bool> stop{false};
    std::thread dev([&] {
      for (int i = 0; i < 1000000; i++)
        if (s.InjectGroup(1 + i % 3, 0, i, 1, 0, 1, &stop) != 0) return;
    });
    size_t got = 0, peak = 0;
    std::vector<iommu_hwpt_pgfault> r;
    while (got < 1000000) {
      SimChannel::Stats st = s.GetStats();
      peak = std::max(peak, st.queued_groups + st.awaiting_groups);
      ssize_t n = ReadN(s, 64, &r);
      if (n <= 0) {
        std::this_thread::yield();
        continue;
      }
      std::vector<uint32_t> cookies;
      for (auto& x : r) cookies.push_back(x.cookie);
      EXPECT_EQ(Answer(s, cookies), ssize_t(cookies.size() * 8));
      got += cookies.size();
      if (!step_ok) break;
    }
    dev.join();
    EXPECT_EQ(got, 1000000);
    EXPECT_EQ(peak <= 512, true);
    EXPECT_EQ(s.GetStats().cookie_bytes <= 128, true);
  }
  Done();
}

void Detach() {
  Step("detach forgets every group; injection then fails ENODEV until reattach");
  {
    SimChannel s(0);
    for (int i = 0; i < 4; i++) Inject(s, 2);
    EXPECT_EQ(ReadN(s, 4), 4 * kRec);
    size_t undelivered = 0;
    std::vector<uint32_t> c = s.Detach(&undelivered);
    EXPECT_EQ(c.size(), 2);
    EXPECT_EQ(c[1], 2);
    EXPECT_EQ(undelivered, 2);
    EXPECT_EQ(Readable(s), false);
    EXPECT_EQ(ReadN(s, 8), 0);
    EXPECT_EQ(Answer(s, {1}), -EINVAL);
    EXPECT_EQ(Inject(s, 1), -ENODEV);
    s.Reattach();
    EXPECT_EQ(Inject(s, 1), 0);
    std::vector<iommu_hwpt_pgfault> r;
    EXPECT_EQ(ReadN(s, 8, &r), kRec);
    EXPECT_EQ(r[0].cookie, 1);  // detach freed every cookie
  }
  Done();
  Step("a closed channel cancels a waiting injector");
  {
    SimChannel s(1);
    EXPECT_EQ(Inject(s, 1), 0);
    std::atomic<int> rc{1};
    std::thread dev([&] { rc = Inject(s, 1); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s.Close();
    dev.join();
    EXPECT_EQ(rc.load(), -ECANCELED);
  }
  Done();
}

}  // namespace

int main() {
  MultiPageGroups();
  Cookies();
  Refusal();
  Credit();
  Detach();
  printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
