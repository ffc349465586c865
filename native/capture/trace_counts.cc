#include "trace_counts.h"

#include <string.h>

#include "frames.h"

namespace capture {

static FieldLoc FindField(const std::string& format, const std::string& name) {
  FieldLoc loc;
  size_t p = 0;
  while ((p = format.find("field:", p)) != std::string::npos) {
    size_t semi = format.find(';', p);
    if (semi == std::string::npos) break;
    std::string decl = format.substr(p + 6, semi - p - 6);
    size_t sp = decl.find_last_of(' ');
    std::string fname = sp == std::string::npos ? decl : decl.substr(sp + 1);
    if (fname == name) {
      size_t o = format.find("offset:", semi);
      size_t s = format.find("size:", semi);
      if (o == std::string::npos || s == std::string::npos) break;
      loc.offset = atoi(format.c_str() + o + 7);
      loc.size = atoi(format.c_str() + s + 5);
      loc.dataLoc = decl.find("__data_loc") != std::string::npos;
      return loc;
    }
    p = semi;
  }
  return loc;
}

CountedEvent ClassifyEvent(const std::string& name, const std::string& format) {
  CountedEvent ev;
  auto need = [&](FieldLoc& f, const char* field) {
    f = FindField(format, field);
    return f.offset >= 0;
  };
  bool ok = false;
  if (name == "iommu:map") {
    ev.kind = CountedKind::kMap;
    ok = need(ev.size, "size");
  } else if (name == "iommu:unmap") {
    ev.kind = CountedKind::kUnmap;
    ok = need(ev.unmapped, "unmapped_size");
  } else if (name == "intel_iommu:qi_submit") {
    ev.kind = CountedKind::kQiSubmit;
    ok = need(ev.qw0, "qw0") && need(ev.iommu, "iommu") && ev.iommu.dataLoc;
  } else if (name == "intel_iommu:cache_tag_flush_range" || name == "intel_iommu:cache_tag_flush_range_np") {
    ev.kind = CountedKind::kFlush;
    ok = need(ev.iommu, "iommu") && need(ev.dev, "dev") && ev.iommu.dataLoc && ev.dev.dataLoc;
  } else if (name == "intel_iommu:prq_report") {
    ev.kind = CountedKind::kPrq;
    ok = need(ev.iommu, "iommu") && need(ev.dev, "dev") && ev.iommu.dataLoc && ev.dev.dataLoc;
  }
  if (!ok) ev.kind = CountedKind::kNone;
  return ev;
}

static bool ReadUint(const uint8_t* rec, uint32_t len, const FieldLoc& f, uint64_t* out) {
  if (f.offset < 0 || static_cast<uint32_t>(f.offset + f.size) > len || f.size > 8) return false;
  uint64_t v = 0;
  memcpy(&v, rec + f.offset, static_cast<size_t>(f.size));  // little endian
  *out = v;
  return true;
}

static bool ReadString(const uint8_t* rec, uint32_t len, const FieldLoc& f, std::string* out) {
  uint64_t loc;
  if (!ReadUint(rec, len, f, &loc)) return false;
  uint32_t off = loc & 0xffff, n = (loc >> 16) & 0xffff;
  if (off + n > len) return false;
  const char* s = reinterpret_cast<const char*>(rec + off);
  out->assign(s, strnlen(s, n));
  return true;
}

static const char* QiType(uint64_t t) {
  static const char* kNames[] = {"type_0",      "cc_inv", "iotlb_inv",     "dev_tlb_inv",  "iec_inv",
                                 "inv_wait",    "p_iotlb_inv", "pc_inv", "p_dev_tlb_inv", "page_grp_resp"};
  return t < sizeof kNames / sizeof kNames[0] ? kNames[t] : "type_other";
}

bool TraceCounts::Add(const CountedEvent& ev, const uint8_t* rec, uint32_t len) {
  uint64_t v = 0;
  std::string a, b;
  bool ok = false;
  switch (ev.kind) {
    case CountedKind::kMap:
      if ((ok = ReadUint(rec, len, ev.size, &v))) mapCount_++, mapBytes_ += v;
      break;
    case CountedKind::kUnmap:
      if ((ok = ReadUint(rec, len, ev.unmapped, &v))) unmapCount_++, unmapBytes_ += v;
      break;
    case CountedKind::kQiSubmit:
      if ((ok = ReadUint(rec, len, ev.qw0, &v) && ReadString(rec, len, ev.iommu, &a))) qi_[a][QiType(v & 0xf)]++;
      break;
    case CountedKind::kFlush:
      if ((ok = ReadString(rec, len, ev.iommu, &a) && ReadString(rec, len, ev.dev, &b))) flush_[a + " " + b]++;
      break;
    case CountedKind::kPrq:
      if ((ok = ReadString(rec, len, ev.iommu, &a) && ReadString(rec, len, ev.dev, &b))) prq_[a + " " + b]++;
      break;
    case CountedKind::kNone:
      break;
  }
  total_++;
  if (!ok) bad_++;
  return ok;
}

static std::string Obj(const std::map<std::string, uint64_t>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) out += (out.size() > 1 ? "," : "") + JsonString(k) + ":" + std::to_string(v);
  return out + "}";
}

std::string TraceCounts::TakeJson() {
  std::string qi = "{";
  for (const auto& [unit, kinds] : qi_) qi += (qi.size() > 1 ? "," : "") + JsonString(unit) + ":" + Obj(kinds);
  qi += "}";
  std::string out = "{\"map\":{\"count\":" + std::to_string(mapCount_) + ",\"bytes\":" + std::to_string(mapBytes_) +
                    "},\"unmap\":{\"count\":" + std::to_string(unmapCount_) + ",\"bytes\":" +
                    std::to_string(unmapBytes_) + "},\"qi\":" + qi + ",\"flush\":" + Obj(flush_) +
                    ",\"prq\":" + Obj(prq_) + ",\"bad\":" + std::to_string(bad_) + "}";
  total_ = mapCount_ = mapBytes_ = unmapCount_ = unmapBytes_ = bad_ = 0;
  qi_.clear();
  flush_.clear();
  prq_.clear();
  return out;
}

}  // namespace capture
