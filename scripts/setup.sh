#!/usr/bin/env bash
# Installs the system packages runexp builds against, when any is missing.
# Debian/Ubuntu (apt-get); run as root or with sudo available. fonts-dejavu-core gives the
# charts (progress.png, the report's SVGs) the font they ask for on a bare machine.
set -euo pipefail
packages=(libdnnl-dev libyaml-dev libpng-dev libjpeg62-turbo-dev libturbojpeg0-dev libtiff-dev libgif-dev zlib1g-dev libcairo2-dev fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
