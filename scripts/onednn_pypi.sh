#!/usr/bin/env bash
# Fetches oneDNN 3.2 as Intel publishes it on PyPI (the GNU OpenMP CPU build, the runtime
# Debian's libdnnl also uses) into DEST/include and DEST/lib, for `make ONEDNN=pypi`.
# Uses pip (so a configured index or proxy applies) and checks the wheels' SHA-256.
set -euo pipefail
dest=${1:?usage: scripts/onednn_pypi.sh DEST}
if [ -e "$dest/include/dnnl.h" ] && [ -e "$dest/lib/libdnnl.so.3" ]; then exit 0; fi
version=2023.2.0  # oneDNN 3.2.0
declare -A sha256=(
    [onednn_cpu_gomp-$version-py2.py3-none-manylinux1_x86_64.whl]=2f22a54d6a890ed14bfa185d42a4be65d8b5b1df85dc1f0f3a9abe31620416fb
    [onednn_devel_cpu_gomp-$version-py2.py3-none-manylinux1_x86_64.whl]=9763c69e8c907e119056bd52ad918ca84ac9ba939d130a99dfa95ccca3e5e284
)
if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "onednn_pypi: needs pip (Debian: apt-get install python3-pip) and unzip" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "onednn_pypi: downloading oneDNN $version (onednn-cpu-gomp, onednn-devel-cpu-gomp) from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" \
    "onednn-cpu-gomp==$version" "onednn-devel-cpu-gomp==$version"
for wheel in "${!sha256[@]}"; do
    echo "${sha256[$wheel]}  $work/$wheel" | sha256sum --check --quiet
    unzip -q -o "$work/$wheel" -d "$work/unpacked"
done
mkdir -p "$dest"
rm -rf "$dest/include" "$dest/lib"
cp -R "$work/unpacked/onednn_devel_cpu_gomp-$version.data/data/include" "$dest/include"
cp -R "$work/unpacked/onednn_cpu_gomp-$version.data/data/lib" "$dest/lib"
rm -rf "$dest/lib/cmake"
# Wheels cannot hold symbolic links, so the library comes three times; keep one.
(cd "$dest/lib" && ln -sf libdnnl.so.3.2 libdnnl.so.3 && ln -sf libdnnl.so.3 libdnnl.so)
echo "onednn_pypi: oneDNN in $dest"
