#!/usr/bin/env bash
# scripts/debian-root.sh DIR SUITE ARCH PACKAGE...
# Unpacks Debian packages of another release or CPU into DIR/root, with their own apt state under DIR,
# leaving the system's apt configuration alone. The tests use two such roots to run the addon where
# this machine cannot: bullseye's glibc 2.31 (below the build machine's) and an arm64 Node under qemu.
set -euo pipefail
dir=$1 suite=$2 arch=$3
shift 3
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
dir=$(cd "$dir" && pwd)
echo "deb [arch=$arch] http://deb.debian.org/debian $suite main" > "$dir/sources.list"
apt_options=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=/nonexistent
  -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o Dir::State::status=/dev/null
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" update >/dev/null
(cd "$dir/debs" && apt-get "${apt_options[@]}" download "$@" >/dev/null)
rm -rf "$dir/root"
mkdir -p "$dir/root"
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
echo "$dir/root: $(ls "$dir/debs" | wc -l) packages from $suite/$arch"
