#!/usr/bin/env bash
# make image: the l2a container image, built with podman and no registry, from the binary the
# project's build made (build/l2a, stripped) and the shared libraries it links, as this Debian 12
# machine has them — with CA certificates, passwd/group entries for root and nobody, and nothing
# else (no shell, no package manager): FROM scratch. The Debian package versions of those
# libraries are recorded in the image's labels. Written as an OCI archive a user copies to a
# registry (skopeo copy oci-archive:build/l2a-image.tar docker://REGISTRY/l2a:TAG) and tagged
# localhost/l2a:VERSION in podman's store.
# Usage: scripts/image.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BINARY=$BUILD/l2a
[[ -x $BINARY ]] || { echo "image: $BINARY is missing (make build)" >&2; exit 1; }
command -v podman >/dev/null || { echo "image: podman is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
VERSION=$("$BINARY" version | awk '{print $2}')
CONTEXT=$BUILD/image
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/rootfs/usr/bin" "$CONTEXT/rootfs/etc/ssl/certs" "$CONTEXT/rootfs/tmp"
strip -o "$CONTEXT/rootfs/usr/bin/l2a" "$BINARY"
# The libraries the dynamic loader resolves for the binary, and the loader itself.
libraries=$(ldd "$BINARY" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
packages=()
for lib in $libraries; do
  mkdir -p "$CONTEXT/rootfs$(dirname "$lib")"
  cp -L "$lib" "$CONTEXT/rootfs$lib"
  owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $owner ]] && packages+=("$owner=$(dpkg-query -W -f='${Version}' "$owner")")
done
cp -L /etc/ssl/certs/ca-certificates.crt "$CONTEXT/rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/:/usr/bin/l2a\nnobody:x:65534:65534:nobody:/:/usr/bin/l2a\n' >"$CONTEXT/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$CONTEXT/rootfs/etc/group"
chmod 1777 "$CONTEXT/rootfs/tmp"
PACKAGES=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd' ')
cat >"$CONTEXT/Containerfile" <<CONTAINERFILE
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="l2a" org.opencontainers.image.version="$VERSION" \\
      org.opencontainers.image.source="https://github.com/l2announcer/l2announcer" \\
      io.l2announcer.debian-packages="$PACKAGES"
USER 0
ENTRYPOINT ["/usr/bin/l2a"]
CONTAINERFILE
podman --runtime runc build --pull=never --quiet -t "localhost/l2a:$VERSION" -f "$CONTEXT/Containerfile" "$CONTEXT" >/dev/null
podman save --format oci-archive -o "$BUILD/l2a-image.tar" "localhost/l2a:$VERSION" 2>/dev/null
size=$(podman image inspect "localhost/l2a:$VERSION" --format '{{.Size}}')
echo "image: localhost/l2a:$VERSION, $((size / 1024 / 1024)) MiB; OCI archive $BUILD/l2a-image.tar"
