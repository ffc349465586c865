#!/bin/sh
# Gives iommuscope-capture (the activity view's capture helper) the file
# capabilities it needs, and only to members of the 'iommuscope' group, like
# Wireshark's dumpcap:
#   cap_syslog           /dev/kmsg when kernel.dmesg_restrict=1 (Debian's default)
#   cap_perfmon          system-wide IOMMU tracepoints (perf_event_paranoid > -1)
#   cap_dac_read_search  tracefs event ids/formats and Intel debugfs (root-only folders)
# The helper drops every other capability at start and all of them once its
# sources are open. The .deb postinst runs this; run it by hand for a build
# tree:  sudo resources/capture/grant-capture-caps.sh native/build/capture/iommuscope-capture
# Undo:  sudo setcap -r PATH
set -e
HELPER=${1:-/opt/iommuscope/resources/iommuscope-capture}
[ -f "$HELPER" ] || { echo "grant-capture-caps: no $HELPER" >&2; exit 1; }
command -v setcap >/dev/null 2>&1 || { echo "grant-capture-caps: setcap not found (apt-get install libcap2-bin)" >&2; exit 1; }
if getent group iommuscope >/dev/null 2>&1; then
  chown root:iommuscope "$HELPER"
  chmod 0750 "$HELPER"
else
  chown root:root "$HELPER"
  chmod 0755 "$HELPER"
fi
setcap cap_syslog,cap_perfmon,cap_dac_read_search+ep "$HELPER"
echo "grant-capture-caps: $(getcap "$HELPER")"
