// Counting of the high-rate tracepoints inside the helper, so a burst of
// map/unmap or invalidations costs the app one JSON frame per interval, not
// one sample each: map/unmap (count, bytes), qi_submit per unit and
// descriptor type, cache_tag_flush_range per unit and device, prq_report
// per unit and device. Field offsets come from each event's format file.
// Rare events (attach, group changes, io_page_fault, cache tags) are still
// forwarded raw for the app to decode.
#pragma once
#include <stdint.h>

#include <map>
#include <string>

namespace capture {

struct FieldLoc {
  int offset = -1;
  int size = 0;
  bool dataLoc = false;
};

enum class CountedKind { kNone, kMap, kUnmap, kQiSubmit, kFlush, kPrq };

struct CountedEvent {
  CountedKind kind = CountedKind::kNone;
  FieldLoc size, unmapped, qw0, iommu, dev;
};

// Classifies "system:name" and finds its fields in the format text; kNone
// when the event is forwarded raw (or a needed field is missing on this kernel).
CountedEvent ClassifyEvent(const std::string& name, const std::string& format);

class TraceCounts {
 public:
  // Returns false when the record is too short for the fields (counted as bad).
  bool Add(const CountedEvent& ev, const uint8_t* rec, uint32_t len);
  // {"map":{"count":..,"bytes":..},"unmap":{..},"qi":{"dmar0":{"iotlb_inv":n}},"flush":{"dmar0 0000:00:05.0":n},"prq":{..},"bad":n}
  // and resets the interval counts.
  std::string TakeJson();
  bool empty() const { return total_ == 0; }

 private:
  uint64_t total_ = 0, mapCount_ = 0, mapBytes_ = 0, unmapCount_ = 0, unmapBytes_ = 0, bad_ = 0;
  std::map<std::string, std::map<std::string, uint64_t>> qi_;
  std::map<std::string, uint64_t> flush_, prq_;
};

}  // namespace capture
