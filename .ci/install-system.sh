#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian bookworm machine without a GPU:
# a software Vulkan driver Dawn accepts (Mesa lavapipe 25.x from bookworm-backports; bookworm's own
# Mesa 22.3 is rejected by Dawn), Debian's chromium for the browser tests, and Debian's PyTorch for
# /usr/bin/python3 (the tests that continue a run in PyTorch, test/io/pytorch-run.test.ts).
set -euo pipefail
need_apt=0
lavapipe_icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1 || true)
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
case "$mesa_version" in 2[4-9].*|3*) ;; *) need_apt=1 ;; esac
[ -x /usr/bin/chromium ] || need_apt=1
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || need_apt=1
[ "$need_apt" = 1 ] || { echo "system packages present (mesa $mesa_version, chromium, python3-torch)"; exit 0; }

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Backports from the mirror the machine already uses for bookworm (a local mirror or proxy, signed-by
  # and components kept), not from a hard-coded host it may not reach.
  source "$(dirname "$0")/apt-backports.sh"
  if ! line=$(backports_line /etc/apt); then
    echo "no apt source for bookworm in /etc/apt/sources.list or /etc/apt/sources.list.d/: add one, or bookworm-backports itself" >&2
    exit 1
  fi
  echo "adding apt source: $line"
  echo "$line" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core python3-torch python3-numpy >/dev/null
echo "installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) $(/usr/bin/chromium --version) and torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
