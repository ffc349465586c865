#include "trace_source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "frames.h"

namespace capture {

static std::string ReadSmallFile(const std::string& path, int* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return "";
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  close(fd);
  *err = 0;
  return out;
}

std::vector<int> OnlineCpus() {
  int err = 0;
  std::string s = ReadSmallFile("/sys/devices/system/cpu/online", &err);
  std::vector<int> cpus;
  const char* p = s.c_str();
  while (*p) {
    char* end;
    long a = strtol(p, &end, 10);
    if (end == p) break;
    long b = a;
    if (*end == '-') b = strtol(end + 1, &end, 10);
    for (long c = a; c <= b && c < 4096; c++) cpus.push_back(static_cast<int>(c));
    p = *end == ',' ? end + 1 : end;
    if (*p == '\n') break;
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

TraceSource::~TraceSource() {
  for (auto& r : rings_) munmap(r.base, mapBytes_);
  for (int fd : eventFds_) close(fd);
}

SourceReport TraceSource::Open(const std::string& tracefs, const std::vector<std::string>& events,
                               unsigned ringPages) {
  SourceReport rep;
  std::vector<std::pair<std::string, uint64_t>> ids;
  std::string missing;
  int denied = 0;
  for (const auto& ev : events) {
    size_t colon = ev.find(':');
    if (colon == std::string::npos) continue;
    std::string dir = tracefs + "/events/" + ev.substr(0, colon) + "/" + ev.substr(colon + 1);
    int err = 0;
    std::string id = ReadSmallFile(dir + "/id", &err);
    if (err == 0) {
      std::string format = ReadSmallFile(dir + "/format", &err);
      if (err == 0) {
        uint64_t num = strtoull(id.c_str(), nullptr, 10);
        std::string payload(4, '\0');
        for (int i = 0; i < 4; i++) payload[i] = static_cast<char>((num >> (8 * i)) & 0xff);
        payload += ev + "\n" + format;
        if (!WriteFrame(kFormat, payload)) return rep;
        ids.emplace_back(ev, num);
        CountedEvent c = ClassifyEvent(ev, format);
        if (c.kind != CountedKind::kNone) counted_[static_cast<uint16_t>(num)] = c;
        continue;
      }
    }
    if (err == EACCES || err == EPERM) denied++;
    missing += (missing.empty() ? "" : ", ") + ev + " (" + strerrorname_np(err) + ")";
  }
  if (ids.empty()) {
    if (denied) {
      rep.needCap = "cap_dac_read_search";
      rep.detail = "cannot read the event ids under " + tracefs +
                   "/events (EACCES: tracefs is readable by root only)";
    } else {
      rep.detail = "no IOMMU tracepoint under " + tracefs + "/events (tracefs not mounted, or " +
                   "CONFIG_IOMMU tracepoints missing): " + missing;
    }
    return rep;
  }
  std::vector<int> cpus = OnlineCpus();
  long page = sysconf(_SC_PAGESIZE);
  mapBytes_ = static_cast<size_t>(page) * (1 + ringPages);
  for (int cpu : cpus) {
    int leader = -1;
    for (const auto& [name, id] : ids) {
      perf_event_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_TRACEPOINT;
      attr.config = id;
      attr.sample_period = 1;
      attr.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
      attr.use_clockid = 1;
      attr.clockid = CLOCK_MONOTONIC;
      attr.watermark = 1;
      attr.wakeup_watermark = static_cast<uint32_t>(page * ringPages / 4);
      int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
      if (fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM) {
          rep.needCap = "cap_perfmon";
          int perr = 0;
          std::string paranoid = ReadSmallFile("/proc/sys/kernel/perf_event_paranoid", &perr);
          while (!paranoid.empty() && paranoid.back() == '\n') paranoid.pop_back();
          rep.detail = "perf_event_open(" + name + ", cpu " + std::to_string(cpu) + "): " +
                       strerrorname_np(e) + " (system-wide tracepoints with kernel.perf_event_paranoid=" +
                       paranoid + ")";
        } else {
          rep.detail = "perf_event_open(" + name + "): " + strerrorname_np(e) + " " + strerror(e);
        }
        return rep;
      }
      eventFds_.push_back(fd);
      if (leader < 0) {
        void* base = mmap(nullptr, mapBytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED) {
          rep.detail = std::string("mmap of the perf ring: ") + strerrorname_np(errno) +
                       " (perf_event_mlock_kb too small for " + std::to_string(ringPages) + " pages?)";
          return rep;
        }
        leader = fd;
        ringFds_.push_back(fd);
        rings_.push_back({cpu, fd, static_cast<uint8_t*>(base), static_cast<size_t>(page) * ringPages});
      } else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, leader) != 0) {
        rep.detail = std::string("PERF_EVENT_IOC_SET_OUTPUT: ") + strerrorname_np(errno);
        return rep;
      }
    }
  }
  for (int fd : eventFds_) ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  rep.ok = true;
  rep.detail = std::to_string(ids.size()) + " tracepoints on " + std::to_string(cpus.size()) + " CPUs";
  if (!missing.empty()) rep.detail += "; not on this kernel: " + missing;
  return rep;
}

bool TraceSource::Drain() {
  for (auto& r : rings_)
    if (!DrainRing(r)) return false;
  return true;
}

bool TraceSource::DrainRing(Ring& r) {
  auto* meta = reinterpret_cast<perf_event_mmap_page*>(r.base);
  uint8_t* data = r.base + (mapBytes_ - r.dataSize);
  uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  if (head == tail) return true;
  std::string frame(8, '\0');
  uint32_t count = 0;
  auto flush = [&]() -> bool {
    if (count == 0) return true;
    for (int i = 0; i < 4; i++) frame[i] = static_cast<char>((r.cpu >> (8 * i)) & 0xff);
    for (int i = 0; i < 4; i++) frame[4 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
    bool ok = WriteFrame(kTrace, frame);
    frame.assign(8, '\0');
    count = 0;
    return ok;
  };
  uint8_t rec[65536];
  while (tail < head) {
    size_t off = tail % r.dataSize;
    perf_event_header hdr;
    for (size_t i = 0; i < sizeof hdr; i++) reinterpret_cast<uint8_t*>(&hdr)[i] = data[(off + i) % r.dataSize];
    if (hdr.size < sizeof hdr || tail + hdr.size > head) break;
    for (size_t i = 0; i < hdr.size; i++) rec[i] = data[(off + i) % r.dataSize];
    tail += hdr.size;
    if (hdr.type == PERF_RECORD_SAMPLE && hdr.size >= sizeof hdr + 12) {
      uint64_t time;
      uint32_t size;
      memcpy(&time, rec + sizeof hdr, 8);
      memcpy(&size, rec + sizeof hdr + 8, 4);
      if (sizeof hdr + 12 + size > hdr.size) continue;
      samples_++;
      const uint8_t* raw = rec + sizeof hdr + 12;
      if (!raw_ && size >= 2) {
        auto it = counted_.find(static_cast<uint16_t>(raw[0] | raw[1] << 8));
        if (it != counted_.end()) {
          counts_.Add(it->second, raw, size);
          continue;
        }
      }
      frame.append(reinterpret_cast<char*>(&time), 8);
      frame.append(reinterpret_cast<char*>(&size), 4);
      frame.append(reinterpret_cast<char*>(rec + sizeof hdr + 12), size);
      count++;
      if (frame.size() > 60000 && !flush()) return false;
    } else if (hdr.type == PERF_RECORD_LOST && hdr.size >= sizeof hdr + 16) {
      uint64_t lost;
      memcpy(&lost, rec + sizeof hdr + 8, 8);
      lost_ += lost;
      std::string l(8, '\0');
      for (int i = 0; i < 4; i++) l[i] = static_cast<char>((r.cpu >> (8 * i)) & 0xff);
      l.append(reinterpret_cast<char*>(&lost), 8);
      if (!flush() || !WriteFrame(kTraceLost, l)) return false;
    }
  }
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  return flush();
}

}  // namespace capture
