// One fixed sequence of named steps on a fault FD, one JSON line per step
// (return value or errno name, cookies and records seen, poll readiness).
// Run against the kernel (the iommufd selftest mock device's fault queue)
// and against SimChannel: the two transcripts must be identical, so the
// kernel judges the simulator (test/vm/fault-fd-conformance.test.ts).
//
//   fault_fd_conformance --sim
//   fault_fd_conformance --kernel [/dev/iommu]
//
// Build: g++ -std=c++17 -Inative/src native/test/fault_fd_conformance.cc
//        native/src/sim_channel.cc native/src/kernel_channel.cc
//        native/src/kernel_ioctls.cc -lpthread
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fault_channel.h"
#include "kernel_ioctls.h"
#include "sim_channel.h"
#include "uapi.h"

namespace {

constexpr uint64_t kBase = 0x2000000;  // fault addresses are printed relative to this
constexpr size_t kRec = sizeof(iommu_hwpt_pgfault);

// The device side: what raises page requests and what detaches the domain.
class Device {
 public:
  virtual ~Device() = default;
  virtual FaultChannel* channel() = 0;
  virtual uint32_t dev_id() const = 0;
  // One single-page group (LAST_PAGE), as TRIGGER_IOPF makes. 0 or -errno.
  virtual int Trigger(uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr) = 0;
  // Replace the fault-capable domain with a plain one, and back.
  virtual int Detach() = 0;
  virtual int Reattach() = 0;
};

class SimDevice : public Device {
 public:
  SimDevice() : sim_(4096) {}
  FaultChannel* channel() override { return &sim_; }
  uint32_t dev_id() const override { return 1; }
  int Trigger(uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr) override {
    return sim_.InjectGroup(1, pasid, grpid, perm, addr, 1, &stop_);
  }
  int Detach() override {
    size_t undelivered = 0;
    sim_.Detach(&undelivered);
    return 0;
  }
  int Reattach() override {
    sim_.Reattach();
    return 0;
  }

 private:
  SimChannel sim_;
  std::atomic<bool> stop_{false};
};

int Ioctl(int fd, unsigned long req, void* arg) { return ioctl(fd, req, arg) == 0 ? 0 : -errno; }

// The selftest sequence (tools/testing/selftests/iommu): IOAS, mock domain,
// nest parent, fault queue, nested IOPF-capable HWPT, replace onto it.
class KernelDevice : public Device {
 public:
  int Open(const char* path, std::string* why) {
    fd_ = open(path, O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return Why(why, std::string("open ") + path, -errno);
    iommu_ioas_alloc ioas = {};
    ioas.size = sizeof ioas;
    int rc = Ioctl(fd_, IOMMU_IOAS_ALLOC, &ioas);
    if (rc) return Why(why, "IOAS_ALLOC", rc);
    ioas_ = ioas.out_ioas_id;
    iommu_test_cmd md = {};
    md.size = sizeof md;
    md.op = IOMMU_TEST_OP_MOCK_DOMAIN;
    md.id = ioas_;
    if ((rc = Ioctl(fd_, IOMMU_TEST_CMD, &md))) return Why(why, "MOCK_DOMAIN", rc);
    stdev_ = md.mock_domain.out_stdev_id;
    idev_ = md.mock_domain.out_idev_id;
    iommu_hwpt_alloc parent = {};
    parent.size = sizeof parent;
    parent.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
    parent.dev_id = idev_;
    parent.pt_id = ioas_;
    if ((rc = Ioctl(fd_, IOMMU_HWPT_ALLOC, &parent))) return Why(why, "HWPT_ALLOC parent", rc);
    iommu_fault_alloc fq = {};
    fq.size = sizeof fq;
    if ((rc = Ioctl(fd_, IOMMU_FAULT_QUEUE_ALLOC, &fq))) return Why(why, "FAULT_QUEUE_ALLOC", rc);
    channel_ = MakeKernelChannel(int(fq.out_fault_fd));
    iommu_hwpt_selftest data = {IOMMU_TEST_IOTLB_DEFAULT};
    iommu_hwpt_alloc nested = {};
    nested.size = sizeof nested;
    nested.flags = IOMMU_HWPT_FAULT_ID_VALID;
    nested.dev_id = idev_;
    nested.pt_id = parent.out_hwpt_id;
    nested.data_type = IOMMU_HWPT_DATA_SELFTEST;
    nested.data_len = sizeof data;
    nested.data_uptr = uint64_t(uintptr_t(&data));
    nested.fault_id = fq.out_fault_id;
    if ((rc = Ioctl(fd_, IOMMU_HWPT_ALLOC, &nested))) return Why(why, "HWPT_ALLOC nested", rc);
    nested_ = nested.out_hwpt_id;
    if ((rc = Replace(nested_))) return Why(why, "MOCK_DOMAIN_REPLACE", rc);
    return 0;
  }
  FaultChannel* channel() override { return channel_.get(); }
  uint32_t dev_id() const override { return idev_; }
  int Trigger(uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr) override {
    return TriggerIopf(fd_, idev_, pasid, grpid, perm, addr);
  }
  int Detach() override { return Replace(ioas_); }
  int Reattach() override { return Replace(nested_); }

 private:
  static int Why(std::string* why, const std::string& what, int rc) {
    *why = what + ": " + strerror(-rc);
    return rc;
  }
  int Replace(uint32_t pt) {
    iommu_test_cmd c = {};
    c.size = sizeof c;
    c.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE;
    c.id = stdev_;
    c.mock_domain_replace.pt_id = pt;
    return Ioctl(fd_, IOMMU_TEST_CMD, &c);
  }
  int fd_ = -1;
  uint32_t ioas_ = 0, stdev_ = 0, idev_ = 0, nested_ = 0;
  std::unique_ptr<FaultChannel> channel_;
};

const char* ErrName(int e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAGAIN: return "EAGAIN";
    default: return "E?";
  }
}

class Runner {
 public:
  explicit Runner(Device* d) : d_(d), ch_(d->channel()) {}

  // A byte count or an errno name.
  static std::string Ret(ssize_t n) {
    if (n >= 0) return std::to_string(n);
    return std::string("\"") + ErrName(int(-n)) + "\"";
  }

  void Poll(const char* step) {
    struct pollfd p = {ch_->PollFd(), POLLIN | POLLOUT, 0};
    int n = poll(&p, 1, 0);
    // POLLRDNORM is left out: the kernel sets it with EPOLLIN, an eventfd does not.
    std::string r = n < 0 ? "error" : "";
    if (n > 0 && (p.revents & POLLIN)) r += "IN";
    if (n > 0 && (p.revents & POLLOUT)) r += r.empty() ? "OUT" : "|OUT";
    if (n > 0 && (p.revents & (POLLERR | POLLHUP))) r += "|ERRHUP";
    if (r.empty()) r = "none";
    Emit(step, "\"poll\":\"" + r + "\"");
  }

  // Read `len` bytes; prints the result and every record; returns the cookies.
  std::vector<uint32_t> Read(const char* step, size_t len) {
    std::vector<uint8_t> buf(len + kRec);
    ssize_t n = ch_->Read(buf.data(), len);
    std::vector<uint32_t> cookies;
    std::string recs;
    for (ssize_t off = 0; n > 0 && off + ssize_t(kRec) <= n; off += kRec) {
      iommu_hwpt_pgfault r;
      memcpy(&r, buf.data() + off, kRec);
      if (cookies.empty() || cookies.back() != r.cookie) cookies.push_back(r.cookie);
      char b[200];
      snprintf(b, sizeof b, "%s[%u,%u,\"%s\",%u,%u,%u,%lld,%u,%u]", recs.empty() ? "" : ",",
               r.cookie, r.flags, r.dev_id == d_->dev_id() ? "dev" : "other", r.pasid, r.grpid,
               r.perm, (long long)(r.addr - kBase), r.length, r.__reserved);
      recs += b;
    }
    std::string cs;
    for (uint32_t c : cookies) cs += (cs.empty() ? "" : ",") + std::to_string(c);
    Emit(step, "\"len\":" + std::to_string(len) + ",\"ret\":" + Ret(n) + ",\"cookies\":[" + cs +
                   "],\"records\":[" + recs + "]");
    return cookies;
  }

  // Write raw bytes (lengths that are not a multiple of 8 included).
  void WriteRaw(const char* step, size_t len) {
    std::vector<uint8_t> buf(len + 8, 0);
    Emit(step, "\"len\":" + std::to_string(len) + ",\"ret\":" + Ret(ch_->Write(buf.data(), len)));
  }

  void Write(const char* step, const std::vector<std::pair<uint32_t, uint32_t>>& answers) {
    std::vector<iommu_hwpt_page_response> r;
    std::string list;
    for (auto& a : answers) {
      r.push_back({a.first, a.second});
      list += (list.empty() ? "[" : ",[") + std::to_string(a.first) + "," +
              std::to_string(a.second) + "]";
    }
    ssize_t n = ch_->Write(r.data(), r.size() * sizeof r[0]);
    Emit(step, "\"answers\":[" + list + "],\"ret\":" + Ret(n));
  }

  struct Req {
    uint32_t pasid, grpid, perm;
    uint64_t page;  // addr = kBase + page * 4096
  };
  void Trigger(const char* step, const std::vector<Req>& reqs) {
    std::string rets;
    for (const Req& q : reqs) {
      int rc = d_->Trigger(q.pasid, q.grpid, q.perm, kBase + q.page * 4096);
      rets += (rets.empty() ? "" : ",") + Ret(rc);
    }
    Emit(step, "\"rets\":[" + rets + "]");
  }

  void Detach(const char* step) { Emit(step, "\"ret\":" + Ret(d_->Detach())); }
  void Reattach(const char* step) { Emit(step, "\"ret\":" + Ret(d_->Reattach())); }

 private:
  static void Emit(const char* step, const std::string& body) {
    printf("{\"step\":\"%s\",%s}\n", step, body.c_str());
    fflush(stdout);
  }
  Device* d_;
  FaultChannel* ch_;
};

// Answer every cookie with `code` (one write).
std::vector<std::pair<uint32_t, uint32_t>> All(const std::vector<uint32_t>& cookies,
                                               uint32_t code) {
  std::vector<std::pair<uint32_t, uint32_t>> v;
  for (uint32_t c : cookies) v.push_back({c, code});
  return v;
}

// Answers name cookies the reads returned (so a simulator that hands out
// other cookies shows up in the read lines, not as a cascade of errors).
void Sequence(Device* d) {
  Runner r(d);
  const uint32_t R = IOMMU_PGFAULT_PERM_READ, W = IOMMU_PGFAULT_PERM_WRITE;
  std::vector<uint32_t> c;
  auto at = [&](size_t i) { return i < c.size() ? c[i] : 0xdead0000u + uint32_t(i); };
  // Empty queue.
  r.Poll("empty: poll is writable, not readable");
  r.Read("empty: read 400 bytes returns 0", 400);
  r.Read("empty: read 0 bytes returns 0", 0);
  r.Read("empty: read 39 bytes (not a multiple of 40) is ESPIPE", 39);
  r.WriteRaw("empty: write 0 bytes returns 0", 0);
  r.WriteRaw("empty: write 7 bytes (not a multiple of 8) is ESPIPE", 7);
  r.WriteRaw("empty: write 12 bytes is ESPIPE", 12);
  r.Write("empty: answering cookie 1 before any read is EINVAL", {{1, 0}});
  r.Write("empty: answering cookie 0 is EINVAL", {{0, 0}});

  // A fresh response xarray: cookies from 1, 0 stays busy until it empties.
  r.Trigger("fresh: trigger 2", {{0, 1, R, 0}, {0, 2, R, 1}});
  c = r.Read("fresh: read both: cookies 1 and 2", 400);
  std::vector<uint32_t> first = c;
  r.Write("fresh: answer the first", {{at(0), 0}});
  r.Trigger("fresh: trigger 1", {{0, 3, R, 2}});
  c = r.Read("fresh: lowest free is 1 again, not 0", 400);
  std::vector<uint32_t> second = c;
  r.Write("fresh: answer the other first-read group", {{first.size() > 1 ? first[1] : 0, 0}});
  r.Trigger("fresh: trigger 1 more", {{0, 4, R, 3}});
  c = r.Read("fresh: its cookie is 2", 400);
  r.Write("fresh: answer the two in flight: the xarray is empty",
          {{at(0), 0}, {second.empty() ? 0 : second[0], 0}});
  r.Trigger("emptied: trigger 2", {{0, 5, R, 4}, {0, 6, R, 5}});
  c = r.Read("emptied: cookies from 1 again (0 stays reserved)", 400);
  r.Write("emptied: answer the first", {{at(0), 1}});
  r.Trigger("emptied: trigger 1", {{0, 7, R, 6}});
  std::vector<uint32_t> keep = c;
  c = r.Read("emptied: the freed lowest cookie again", 400);
  r.Write("emptied: answer both", {{at(0), 0}, {keep.size() > 1 ? keep[1] : 0, 0}});
  std::vector<Runner::Req> seventy;
  for (uint32_t i = 0; i < 70; i++) seventy.push_back({0, 10 + i, R, 10 + i});
  r.Trigger("two-level xarray: trigger 70", seventy);
  c = r.Read("two-level xarray: read 70", 70 * kRec);
  std::vector<std::pair<uint32_t, uint32_t>> rev;
  for (size_t i = c.size(); i-- > 0;) rev.push_back({c[i], 0});
  r.Write("two-level xarray: answer all 70, highest first", rev);
  r.Trigger("two-level xarray emptied: trigger 1", {{0, 90, R, 90}});
  c = r.Read("two-level xarray emptied: cookie 1 again", 400);
  r.Write("answer it", {{at(0), 0}});
  r.Trigger("fresh detach: trigger 3", {{0, 91, R, 91}, {0, 92, R, 92}, {0, 93, R, 93}});
  c = r.Read("fresh detach: read 2", 80);
  r.Detach("fresh detach: replace the fault domain with a plain one");
  r.Read("fresh detach: the unread group is gone", 400);
  r.Write("fresh detach: a read-unanswered cookie is unknown", {{at(0), 0}});
  r.Reattach("fresh detach: replace back onto the fault domain");
  r.Trigger("fresh detach: trigger 1", {{0, 94, R, 94}});
  c = r.Read("fresh detach: cookie 1 again (0 stays reserved)", 400);
  r.Write("fresh detach: answer it", {{at(0), 0}});
  r.Trigger("cookie 0: trigger 2", {{0, 95, R, 95}, {0, 96, R, 96}});
  c = r.Read("cookie 0: read 2", 400);
  r.Write("cookie 0: answering 0 while groups are pending is EINVAL", {{0, 0}});
  r.Write("cookie 0: answer both", All(c, 0));
  r.Trigger("cookie 0: trigger 2 more", {{0, 97, R, 97}, {0, 98, R, 98}});
  c = r.Read("cookie 0: the answer to 0 freed it: cookies 0 and 1", 400);
  r.Write("cookie 0: answer them", All(c, 0));
  r.Trigger("cookie 0: trigger 1", {{0, 99, R, 99}});
  c = r.Read("cookie 0: emptied again, 0 is still handed out", 400);
  r.Write("cookie 0: answer it", All(c, 0));

  // Three single-page groups; reads hand out whole groups, lowest cookies first.
  r.Trigger("trigger 3 groups (pasid 0, 5, 0)", {{0, 1, R, 0}, {5, 2, R | W, 1}, {0, 3, 0xf, 2}});
  r.Poll("pending: poll is readable and writable");
  r.Read("pending: read 0 bytes with a group pending is EINVAL", 0);
  r.Read("pending: read 41 bytes is ESPIPE", 41);
  c = r.Read("pending: read 40 bytes (exact fit) gives the first group", 40);
  std::vector<uint32_t> two = r.Read("pending: read 400 bytes gives the two others", 400);
  c.insert(c.end(), two.begin(), two.end());
  r.Poll("all read, none answered: poll is not readable");
  r.Read("all read: read 400 bytes returns 0", 400);
  r.Read("all read: read 0 bytes returns 0", 0);

  // Write errors and partial batches.
  r.Write("bad code 2 is EINVAL", {{at(0), 2}});
  r.Write("bad code 0xffffffff is EINVAL", {{at(0), 0xffffffff}});
  r.Write("unknown cookie 99 is EINVAL", {{99, 0}});
  r.Write("batch good, unknown, good: accepted up to the unknown one",
          {{at(0), 0}, {99, 0}, {at(1), 0}});
  r.Write("the same cookie twice in one write: the first is applied", {{at(1), 1}, {at(1), 1}});
  r.Write("an answered cookie is unknown: EINVAL", {{at(0), 0}});
  r.Write("bad code first then good: EINVAL, nothing applied", {{at(2), 7}, {at(2), 1}});
  r.Write("the good answer of the refused batch still applies", {{at(2), 1}});
  r.Trigger("trigger 2", {{0, 10, R, 10}, {0, 11, R, 11}});
  c = r.Read("read both", 400);
  r.Write("good then bad code: accepted up to the bad code", {{at(0), 0}, {at(1), 5}});
  r.Write("the one after the bad code is still pending", {{at(1), 1}});

  // Lowest free cookie, reused as soon as it is answered.
  r.Trigger("trigger 3 more", {{0, 4, R, 3}, {0, 5, R, 4}, {0, 6, R, 5}});
  c = r.Read("all answered: read 3", 400);
  std::vector<uint32_t> held = c;
  r.Write("answer the middle one only", {{at(1), 0}});
  r.Trigger("trigger 2 more", {{0, 7, R, 6}, {0, 8, R, 7}});
  c = r.Read("the middle cookie is reused, then the lowest free above", 400);
  held[1] = at(0);
  held.push_back(at(1));
  r.Write("answer the first and third (invalid)", {{held[0], 1}, {held[2], 1}});
  r.Trigger("trigger 3 more with the same grpid", {{0, 9, R, 8}, {0, 9, R, 8}, {0, 9, R, 9}});
  c = r.Read("read 80 bytes: two whole groups, the freed cookies", 80);
  std::vector<uint32_t> last = r.Read("read 80 bytes: the last group only", 80);
  r.Poll("all read: not readable");
  std::vector<std::pair<uint32_t, uint32_t>> five = {{at(1), 0}, {at(0), 0}};
  five.push_back({held[1], 0});
  five.push_back({held[3], 0});
  five.push_back({last.empty() ? 0 : last[0], 0});
  five.push_back({at(0), 9});
  r.Write("answer all five, a bad code last", five);
  r.Read("nothing left: read returns 0", 400);

  // Many groups in one read.
  std::vector<Runner::Req> many;
  for (uint32_t i = 0; i < 20; i++) many.push_back({i % 3, 100 + i, R, 20 + i});
  r.Trigger("trigger 20 groups", many);
  c = r.Read("read 800 bytes: 20 groups", 800);
  std::vector<std::pair<uint32_t, uint32_t>> odd;
  std::vector<uint32_t> left;
  for (size_t i = 0; i < c.size(); i++) {
    if (i % 2) odd.push_back({c[i], 0});
    else left.push_back(c[i]);
  }
  r.Write("answer every second one", odd);
  r.Trigger("trigger 12", std::vector<Runner::Req>(many.begin(), many.begin() + 12));
  c = r.Read("read 12 groups: the 10 freed cookies first", 480);
  left.insert(left.end(), c.begin(), c.end());
  r.Write("answer all 22", All(left, 0));

  // Detach: the kernel answers queued and read-unanswered groups INVALID.
  r.Trigger("trigger 4 before detach", {{0, 200, R, 40}, {0, 201, R, 41}, {0, 202, R, 42},
                                        {0, 203, R, 43}});
  c = r.Read("read 2 of them", 80);
  r.Detach("replace the fault domain with a plain one");
  r.Poll("after detach: not readable");
  r.Read("after detach: the unread groups are gone", 400);
  r.Write("after detach: a read-unanswered cookie is unknown", {{at(0), 0}});
  r.Write("after detach: the other one too", {{at(1), 0}});
  r.Reattach("replace back onto the fault domain");
  r.Trigger("trigger 2 after reattach", {{0, 300, R, 50}, {0, 301, R, 51}});
  c = r.Read("after reattach: cookies from the lowest again", 400);
  r.Write("answer them", All(c, 0));
  r.Poll("end: poll is writable, not readable");
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--sim") {
    SimDevice d;
    Sequence(&d);
    return 0;
  }
  if (mode == "--kernel") {
    KernelDevice d;
    std::string why;
    if (d.Open(argc > 2 ? argv[2] : "/dev/iommu", &why) != 0) {
      fprintf(stderr, "fault_fd_conformance: mock device setup failed: %s\n", why.c_str());
      return 2;
    }
    Sequence(&d);
    return 0;
  }
  fprintf(stderr, "usage: fault_fd_conformance --sim | --kernel [/dev/iommu]\n");
  return 64;
}
