#!/usr/bin/env bash
# The final image's root filesystem, made inside the Dockerfile's rootfs stage: the stripped
# binary, the shared libraries the dynamic loader resolves for it (and the loader), CA
# certificates, passwd/group entries for root and nobody, an empty /tmp — nothing else (no shell,
# no package manager). Writes the Debian packages those libraries come from, name=version, one per
# line, to PACKAGES (the image's io.l2announcer.debian-packages label).
# Usage: image-rootfs.sh BINARY ROOTFS PACKAGES
set -euo pipefail
BINARY=$1 ROOTFS=$2 PACKAGES=$3
mkdir -p "$ROOTFS/usr/bin" "$ROOTFS/etc/ssl/certs" "$ROOTFS/tmp"
strip -o "$ROOTFS/usr/bin/l2a" "$BINARY"
libraries=$(ldd "$BINARY" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
: >"$PACKAGES.unsorted"
for lib in $libraries; do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
  # dpkg knows a library by the path its package installed (/lib or /usr/lib: merged /usr).
  owner=$({ dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")"; } 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $owner ]] && echo "$owner=$(dpkg-query -W -f='${Version}' "$owner")" >>"$PACKAGES.unsorted"
done
sort -u "$PACKAGES.unsorted" >"$PACKAGES" && rm "$PACKAGES.unsorted"
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/"
echo "ca-certificates=$(dpkg-query -W -f='${Version}' ca-certificates)" >>"$PACKAGES"
printf 'root:x:0:0:root:/:/usr/bin/l2a\nnobody:x:65534:65534:nobody:/:/usr/bin/l2a\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
chmod 1777 "$ROOTFS/tmp"
