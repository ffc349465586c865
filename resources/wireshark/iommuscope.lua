-- Wireshark / tshark dissector for iommuscope captures (pcapng, link type
-- USER0; main/node/recording/FORMAT.md). Install: copy to
-- ~/.local/lib/wireshark/plugins/, or tshark -X lua_script:iommuscope.lua.
local p = Proto("iommuscope", "iommuscope capture frame")

local frame_types = {
  [0x0001] = "header", [0x0002] = "session", [0x0003] = "policy", [0x0004] = "end",
  [0x0005] = "note", [0x0010] = "group read", [0x0011] = "answer", [0x0012] = "batch end",
  [0x0013] = "error", [0x0020] = "vEVENTQ event", [0x0021] = "host activity",
  [0x0030] = "topology", [0x0031] = "topology change",
}
local answerers = { [0] = "user", [1] = "policy", [2] = "drain", [3] = "kernel" }
local codes = { [0] = "success", [1] = "invalid" }
local totals = { "faults", "groups", "answered", "success", "invalid", "byUser", "byPolicy",
  "byDrain", "byKernel", "pending", "errors", "overflow", "malformed", "reads" }

local f = {
  type = ProtoField.uint16("iommuscope.type", "Frame type", base.HEX, frame_types),
  version = ProtoField.uint16("iommuscope.version", "Frame version"),
  queue = ProtoField.uint32("iommuscope.queue", "Queue"),
  group = ProtoField.double("iommuscope.group", "Group"),
  cookie = ProtoField.uint32("iommuscope.cookie", "Cookie"),
  pages = ProtoField.uint32("iommuscope.pages", "Pages"),
  left_out = ProtoField.bool("iommuscope.records_left_out", "Records left out"),
  rec_flags = ProtoField.uint32("iommuscope.fault.flags", "Flags", base.HEX),
  dev_id = ProtoField.uint32("iommuscope.fault.dev_id", "Device id"),
  pasid = ProtoField.uint32("iommuscope.fault.pasid", "PASID"),
  grpid = ProtoField.uint32("iommuscope.fault.grpid", "Page request group index"),
  perm = ProtoField.uint32("iommuscope.fault.perm", "Permissions", base.HEX),
  addr = ProtoField.uint64("iommuscope.fault.addr", "Address", base.HEX),
  length = ProtoField.uint32("iommuscope.fault.length", "Length"),
  rec_cookie = ProtoField.uint32("iommuscope.fault.cookie", "Cookie"),
  code = ProtoField.uint8("iommuscope.code", "Response code", base.DEC, codes),
  by = ProtoField.uint8("iommuscope.by", "Answered by", base.DEC, answerers),
  rule = ProtoField.int16("iommuscope.rule", "Policy rule"),
  latency = ProtoField.double("iommuscope.latency_ns", "Latency (ns)"),
  overflow = ProtoField.uint32("iommuscope.overflow", "Records left out this batch"),
  total = ProtoField.double("iommuscope.total", "Total"),
  json = ProtoField.string("iommuscope.json", "JSON"),
}
p.fields = { f.type, f.version, f.queue, f.group, f.cookie, f.pages, f.left_out, f.rec_flags,
  f.dev_id, f.pasid, f.grpid, f.perm, f.addr, f.length, f.rec_cookie, f.code, f.by, f.rule,
  f.latency, f.overflow, f.total, f.json }

function p.dissector(buf, pinfo, tree)
  if buf:len() < 4 then return 0 end
  pinfo.cols.protocol = "iommuscope"
  local t = tree:add(p, buf())
  local ty = buf(0, 2):le_uint()
  t:add_le(f.type, buf(0, 2))
  t:add_le(f.version, buf(2, 2))
  local name = frame_types[ty] or string.format("type 0x%04x", ty)
  if ty == 0x0010 and buf:len() >= 28 then
    t:add_le(f.queue, buf(4, 4))
    t:add_le(f.group, buf(8, 8))
    t:add_le(f.cookie, buf(16, 4))
    t:add_le(f.pages, buf(20, 4))
    local pages = buf(20, 4):le_uint()
    local left_out = bit.band(buf(24, 4):le_uint(), 1) == 1
    t:add(f.left_out, left_out)
    if not left_out then
      for i = 0, pages - 1 do
        local o = 28 + i * 40
        if o + 40 > buf:len() then break end
        local r = t:add(buf(o, 40), string.format("Fault record %d", i))
        r:add_le(f.rec_flags, buf(o, 4))
        r:add_le(f.dev_id, buf(o + 4, 4))
        r:add_le(f.pasid, buf(o + 8, 4))
        r:add_le(f.grpid, buf(o + 12, 4))
        r:add_le(f.perm, buf(o + 16, 4))
        r:add_le(f.addr, buf(o + 24, 8))
        r:add_le(f.length, buf(o + 32, 4))
        r:add_le(f.rec_cookie, buf(o + 36, 4))
      end
    end
    pinfo.cols.info = string.format("group %d read, cookie %d, %d page(s)",
      buf(8, 8):le_float(), buf(16, 4):le_uint(), pages)
  elseif ty == 0x0011 and buf:len() >= 32 then
    t:add_le(f.queue, buf(4, 4))
    t:add_le(f.group, buf(8, 8))
    t:add_le(f.cookie, buf(16, 4))
    t:add_le(f.code, buf(20, 1))
    t:add_le(f.by, buf(21, 1))
    t:add_le(f.rule, buf(22, 2))
    t:add_le(f.latency, buf(24, 8))
    pinfo.cols.info = string.format("group %d answered %s by %s after %.1f us",
      buf(8, 8):le_float(), codes[buf(20, 1):uint()] or "?", answerers[buf(21, 1):uint()] or "?",
      buf(24, 8):le_float() / 1000)
  elseif ty == 0x0012 and buf:len() >= 12 + 8 * #totals then
    t:add_le(f.queue, buf(4, 4))
    t:add_le(f.overflow, buf(8, 4))
    for i, k in ipairs(totals) do
      t:add_le(f.total, buf(12 + 8 * (i - 1), 8)):prepend_text(k .. ": ")
    end
    pinfo.cols.info = string.format("batch end: %d faults, %d pending",
      buf(12, 8):le_float(), buf(12 + 8 * 9, 8):le_float())
  elseif ty ~= 0x0020 and frame_types[ty] and buf:len() > 4 then
    t:add(f.json, buf(4))
    pinfo.cols.info = name .. " " .. buf(4):string()
  else
    pinfo.cols.info = name
  end
  return buf:len()
end

local encap = (wtap_encaps and wtap_encaps.USER0) or wtap.USER0
DissectorTable.get("wtap_encap"):add(encap, p)
