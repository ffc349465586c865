// The pipe protocol from iommuscope-capture to the app: length-prefixed
// frames on stdout, little endian. Header: u32 payload length, u16 type,
// u16 zero. Control frames carry JSON; data frames carry kernel bytes as
// read (kmsg records, raw tracepoint samples, /proc/interrupts lines), so
// the app decodes everything with the same code whatever the source.
// main/node/activity/frames.ts is the reader; keep the two in step.
#pragma once
#include <stdint.h>
#include <string>

namespace capture {

enum FrameType : uint16_t {
  kHello = 1,       // JSON: version, uid, capabilities kept, sysctls
  kSource = 2,      // JSON: one source's state (ok, or what is missing and the fix)
  kKmsg = 3,        // one /dev/kmsg record, as read
  kFormat = 4,      // u32 event id, then "system:name\n" and the event's format file
  kTrace = 5,       // u32 cpu, u32 count, then count x (u64 time ns, u32 size, size bytes)
  kTraceLost = 6,   // u32 cpu, u32 zero, u64 records the kernel dropped
  kInterrupts = 7,  // u64 CLOCK_MONOTONIC ns, then the header and IOMMU lines of /proc/interrupts
  kDebugfs = 8,     // "path\n" + text; "path\ttruncated\n" + text; "path\terror ERRNO\n" + detail
  kKmsgLost = 9,    // read() said EPIPE: records were overwritten (the app sees the seq gap)
  kReady = 10,      // JSON: every source opened, capabilities dropped
  kCounts = 11,     // JSON: high-rate tracepoints counted in the helper (trace_counts.h), per interval
};

constexpr uint32_t kMaxFrame = 1u << 20;
constexpr uint32_t kProtocolVersion = 1;

// Writes one frame to stdout; returns false when the reader is gone.
bool WriteFrame(FrameType type, const void* payload, uint32_t length);
inline bool WriteFrame(FrameType type, const std::string& payload) {
  return WriteFrame(type, payload.data(), static_cast<uint32_t>(payload.size()));
}

// JSON string literal with escapes (for control frames).
std::string JsonString(const std::string& s);

}  // namespace capture
