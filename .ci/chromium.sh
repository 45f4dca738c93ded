#!/usr/bin/env bash
# Install headless Chromium and the Noto CJK fonts (Debian's `chromium`, `fonts-noto-cjk`) when missing,
# so that the HTML report tests render the Chinese report and print it to PDF instead of skipping.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Without a CJK font Chromium draws every Chinese character as a box: the PDF would print, unreadable.
if ! fc-list 2>/dev/null | grep -qi 'Noto.*CJK'; then need+=(fonts-noto-cjk); fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
else
  sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
command -v chromium >/dev/null
