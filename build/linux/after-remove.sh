#!/bin/bash
# deb postrm: undo after-install.sh (the default template's removal steps, then the udev rule).
set -e
if type update-alternatives >/dev/null 2>&1; then
  update-alternatives --remove '${executable}' '/usr/bin/${executable}' || true
else
  rm -f '/usr/bin/${executable}'
fi
rm -f /etc/udev/rules.d/71-edgewise-coral.rules
if hash udevadm 2>/dev/null; then udevadm control --reload-rules || true; fi
