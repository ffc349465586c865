// iommuscope-capture: the small privileged side of iommuscope's activity
// view (the dumpcap pattern). It keeps only cap_syslog (kmsg under
// dmesg_restrict), cap_perfmon (system-wide tracepoints) and
// cap_dac_read_search (tracefs ids/formats, Intel debugfs, whose folder it
// keeps open: debugfs_source.h), drops the rest at start, opens its
// sources, drops every capability, and streams frames
// (frames.h) on stdout to the unprivileged app. It exits when stdin closes
// (the app went away) or on SIGTERM/SIGINT.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "caps.h"
#include "debugfs_source.h"
#include "frames.h"
#include "trace_source.h"

using namespace capture;

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Options {
  bool kmsg = true;
  bool trace = true;
  bool interrupts = true;
  bool debugfs = true;
  bool kmsgHistory = false;
  bool check = false;
  bool rawTrace = false;
  unsigned intervalMs = 1000;
  unsigned debugfsIntervalMs = 5000;
  std::vector<std::string> debugfsDevices;
  // 128 data pages + 1 = 516 KiB per CPU: exactly perf_event_mlock_kb, so no CAP_IPC_LOCK.
  unsigned ringPages = 128;
  std::string tracefs;
  std::string debugfsDir = "/sys/kernel/debug/iommu/intel";
  std::vector<std::string> events;
};

const char* kDefaultEvents[] = {
    "iommu:map", "iommu:unmap", "iommu:io_page_fault", "iommu:attach_device_to_domain",
    "iommu:add_device_to_group", "iommu:remove_device_from_group", "intel_iommu:qi_submit",
    "intel_iommu:prq_report", "intel_iommu:cache_tag_flush_range",
    "intel_iommu:cache_tag_flush_range_np", "intel_iommu:cache_tag_assign",
    "intel_iommu:cache_tag_unassign"};

void Usage() {
  fprintf(stderr,
          "usage: iommuscope-capture [--no-kmsg] [--no-trace] [--no-interrupts] [--no-debugfs]\n"
          "         [--kmsg-history] [--interval-ms N] [--ring-pages N] [--tracefs DIR]\n"
          "         [--events sys:name,...] [--raw-trace] [--check]\n"
          "         [--debugfs-dir DIR] [--debugfs-interval-ms N] [--debugfs-device ssss:bb:dd.f]...\n"
          "Streams IOMMU activity frames on stdout for iommuscope (not for terminals).\n"
          "--check opens every source, reports each on stderr and exits (0: all open).\n"
          "stdin takes lines 'watch-device ssss:bb:dd.f' (read that device's debugfs\n"
          "translation structures every debugfs interval) and 'read-debugfs' (now).\n");
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "iommuscope-capture: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--no-kmsg") o->kmsg = false;
    else if (a == "--no-trace") o->trace = false;
    else if (a == "--no-interrupts") o->interrupts = false;
    else if (a == "--no-debugfs") o->debugfs = false;
    else if (a == "--kmsg-history") o->kmsgHistory = true;
    else if (a == "--check") o->check = true;
    else if (a == "--raw-trace") o->rawTrace = true;
    else if (a == "--interval-ms" || a == "--ring-pages" || a == "--tracefs" || a == "--events" ||
             a == "--debugfs-interval-ms" || a == "--debugfs-device" || a == "--debugfs-dir") {
      const char* v = value(a.c_str());
      if (!v) return false;
      if (a == "--tracefs") o->tracefs = v;
      else if (a == "--debugfs-dir") o->debugfsDir = v;
      else if (a == "--debugfs-device") {
        if (!IsPciAddress(v)) {
          fprintf(stderr, "iommuscope-capture: bad --debugfs-device '%s' (ssss:bb:dd.f, lower case)\n", v);
          return false;
        }
        o->debugfsDevices.push_back(v);
      }
      else if (a == "--events") {
        std::string s = v;
        size_t p = 0;
        while (p <= s.size()) {
          size_t c = s.find(',', p);
          if (c == std::string::npos) c = s.size();
          if (c > p) o->events.push_back(s.substr(p, c - p));
          p = c + 1;
        }
      } else {
        char* end;
        unsigned long n = strtoul(v, &end, 10);
        bool pow2 = n && !(n & (n - 1));
        if (*end || n == 0 || (a == "--ring-pages" && (!pow2 || n > 1024)) || n > 600000) {
          fprintf(stderr, "iommuscope-capture: bad %s '%s'%s\n", a.c_str(), v,
                  a == "--ring-pages" ? " (a power of two up to 1024)" : "");
          return false;
        }
        (a == "--interval-ms"           ? o->intervalMs
         : a == "--debugfs-interval-ms" ? o->debugfsIntervalMs
                                        : o->ringPages) = static_cast<unsigned>(n);
      }
    } else if (a == "--help" || a == "-h") {
      Usage();
      exit(0);
    } else {
      fprintf(stderr, "iommuscope-capture: unknown option '%s'\n", a.c_str());
      Usage();
      return false;
    }
  }
  if (o->events.empty())
    for (const char* e : kDefaultEvents) o->events.push_back(e);
  return true;
}

std::string ReadSysctl(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "?";
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return "?";
  buf[n] = 0;
  std::string s = buf;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "iommuscope-capture";
  buf[n] = 0;
  return buf;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// One source's state: a kSource frame, and a line on stderr for people.
struct Reporter {
  bool allOk = true;
  std::string fixPath;
  void Report(const char* source, const SourceReport& r) {
    std::string fix;
    if (!r.ok && !r.needCap.empty())
      fix = "sudo setcap cap_syslog,cap_perfmon,cap_dac_read_search+ep " + fixPath;
    std::string json = std::string("{\"source\":") + JsonString(source) +
                       ",\"ok\":" + (r.ok ? "true" : "false") + ",\"detail\":" + JsonString(r.detail) +
                       ",\"needCap\":" + (r.needCap.empty() ? "null" : JsonString(r.needCap)) +
                       ",\"fix\":" + (fix.empty() ? "null" : JsonString(fix)) + "}";
    WriteFrame(kSource, json);
    if (!r.ok) allOk = false;
    fprintf(stderr, "iommuscope-capture: %s: %s%s%s%s%s\n", source, r.ok ? "ok: " : "unavailable: ",
            r.detail.c_str(), r.needCap.empty() ? "" : "; needs ", r.needCap.c_str(),
            fix.empty() ? "" : ("; grant it with: " + fix).c_str());
  }
};

int OpenKmsg(bool history, SourceReport* rep) {
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    rep->detail = std::string("/dev/kmsg: ") + strerrorname_np(e);
    if (e == EPERM || e == EACCES) {
      rep->needCap = "cap_syslog";
      rep->detail += " (kernel.dmesg_restrict=" + ReadSysctl("/proc/sys/kernel/dmesg_restrict") + ")";
    }
    return -1;
  }
  if (!history) lseek(fd, 0, SEEK_END);
  rep->ok = true;
  rep->detail = history ? "/dev/kmsg from the oldest record" : "/dev/kmsg from now on";
  return fd;
}

bool DrainKmsg(int fd) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      if (!WriteFrame(kKmsg, buf, static_cast<uint32_t>(n))) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      if (!WriteFrame(kKmsgLost, "", 0)) return false;
      continue;
    }
    return true;  // EAGAIN: nothing more now
  }
}

bool IsIommuIrqLine(const std::string& l) {
  return l.find("dmar") != std::string::npos || l.find("AMD-Vi") != std::string::npos ||
         l.find("arm-smmu-v3") != std::string::npos;
}

bool SendInterrupts(int fd) {
  std::string text;
  char buf[16384];
  ssize_t n;
  off_t off = 0;
  while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    off += n;
    if (text.size() > (8u << 20)) break;
  }
  uint64_t now = NowNs();
  std::string out(reinterpret_cast<char*>(&now), 8);
  size_t p = 0;
  bool first = true;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(p, e - p);
    if (first || IsIommuIrqLine(line)) out += line + "\n";
    first = false;
    p = e + 1;
  }
  return WriteFrame(kInterrupts, out);
}

// Lines on stdin from the app: "watch-device BDF" and "read-debugfs".
bool OnCommand(const std::string& line, DebugfsSource* debugfs) {
  const std::string watch = "watch-device ";
  if (line.compare(0, watch.size(), watch) == 0) return debugfs->Watch(line.substr(watch.size()));
  if (line == "read-debugfs") return debugfs->ReadAll();
  fprintf(stderr, "iommuscope-capture: unknown command on stdin: '%.40s'\n", line.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  if (isatty(STDOUT_FILENO) && !o.check) {
    fprintf(stderr, "iommuscope-capture: stdout is a terminal; this helper writes binary frames for "
                    "iommuscope (try --check)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  uint64_t wanted = (1ull << kCapSyslog) | (1ull << kCapPerfmon) | (1ull << kCapDacReadSearch);
  CapState caps;
  std::string err = KeepOnly(wanted, &caps);
  if (!err.empty()) {
    fprintf(stderr, "iommuscope-capture: cannot drop capabilities: %s\n", err.c_str());
    return 1;
  }
  if (o.check) {
    // --check: report to stderr only; frames go to /dev/null.
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, STDOUT_FILENO);
  }
  std::string hello = "{\"version\":" + std::to_string(kProtocolVersion) + ",\"uid\":" +
                      std::to_string(getuid()) + ",\"caps\":" + JsonString(CapNames(caps.effective)) +
                      ",\"dmesgRestrict\":" + JsonString(ReadSysctl("/proc/sys/kernel/dmesg_restrict")) +
                      ",\"perfEventParanoid\":" +
                      JsonString(ReadSysctl("/proc/sys/kernel/perf_event_paranoid")) + "}";
  if (!WriteFrame(kHello, hello)) return 0;
  fprintf(stderr, "iommuscope-capture: uid %d, capabilities kept: %s\n", getuid(),
          caps.effective ? CapNames(caps.effective).c_str() : "none");

  Reporter rep;
  rep.fixPath = SelfPath();
  int kmsgFd = -1;
  if (o.kmsg) {
    SourceReport r;
    kmsgFd = OpenKmsg(o.kmsgHistory, &r);
    rep.Report("kmsg", r);
  }
  TraceSource trace;
  if (o.trace) {
    std::string dir = o.tracefs;
    if (dir.empty())
      dir = access("/sys/kernel/tracing/events", F_OK) == 0 || errno == EACCES ? "/sys/kernel/tracing"
                                                                           : "/sys/kernel/debug/tracing";
    trace.set_raw(o.rawTrace);
    rep.Report("tracepoints", trace.Open(dir, o.events, o.ringPages));
  }
  int irqFd = -1;
  if (o.interrupts) {
    SourceReport r;
    irqFd = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
    r.ok = irqFd >= 0;
    r.detail = r.ok ? "/proc/interrupts" : std::string("/proc/interrupts: ") + strerrorname_np(errno);
    rep.Report("interrupts", r);
  }
  DebugfsSource debugfs;
  if (o.debugfs) rep.Report("debugfs", debugfs.Open(o.debugfsDir));
  // Every source is open: nothing below needs a capability.
  err = DropAll();
  if (!err.empty()) {
    fprintf(stderr, "iommuscope-capture: cannot drop capabilities: %s\n", err.c_str());
    return 1;
  }
  WriteFrame(kReady, std::string("{\"allOk\":") + (rep.allOk ? "true" : "false") + "}");
  if (o.check) return rep.allOk ? 0 : 3;

  std::vector<pollfd> fds;
  fds.push_back({STDIN_FILENO, POLLIN, 0});
  if (kmsgFd >= 0) fds.push_back({kmsgFd, POLLIN, 0});
  for (int fd : trace.PollFds()) fds.push_back({fd, POLLIN, 0});
  uint64_t nextIrq = 0;
  uint64_t nextDebugfs = 0;
  std::string commands;
  if (debugfs.ok())
    for (const auto& d : o.debugfsDevices)
      if (!debugfs.Watch(d, false)) return 0;
  while (!g_stop) {
    uint64_t now = NowNs();
    if (now >= nextIrq) {
      if (irqFd >= 0 && !SendInterrupts(irqFd)) break;
      if (!trace.Drain() || !WriteFrame(kCounts, trace.TakeCounts())) break;
      nextIrq = now + o.intervalMs * 1000000ull;
    }
    if (debugfs.ok() && now >= nextDebugfs) {
      if (!debugfs.ReadAll()) break;
      nextDebugfs = now + o.debugfsIntervalMs * 1000000ull;
    }
    // Wake at least every 100 ms so trace rings below the watermark still drain.
    int r = poll(fds.data(), fds.size(), 100);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) break;
    if (fds[0].revents & POLLIN) {
      char b[256];
      ssize_t n = read(STDIN_FILENO, b, sizeof b);
      if (n == 0) break;  // the app closed our stdin
      if (n > 0) commands.append(b, static_cast<size_t>(n));
      bool alive = true;
      for (size_t nl; alive && (nl = commands.find('\n')) != std::string::npos;) {
        alive = OnCommand(commands.substr(0, nl), &debugfs);
        commands.erase(0, nl + 1);
      }
      if (!alive) break;
      if (commands.size() > 256) commands.clear();  // not a command line: drop it
    }
    if (kmsgFd >= 0 && !DrainKmsg(kmsgFd)) break;
    if (!trace.Drain()) break;
  }
  if (kmsgFd >= 0) DrainKmsg(kmsgFd);
  if (trace.Drain()) WriteFrame(kCounts, trace.TakeCounts());
  fprintf(stderr, "iommuscope-capture: done: %llu trace samples, %llu lost\n",
          static_cast<unsigned long long>(trace.samples()), static_cast<unsigned long long>(trace.lost()));
  return 0;
}
