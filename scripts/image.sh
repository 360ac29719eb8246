#!/usr/bin/env bash
# make image: the l2a container image, built from the Dockerfile with podman and no registry.
# The debian:12 base the Dockerfile names is made here the first time (debootstrap minbase from
# the Debian mirror apt uses, `podman import`, tagged docker.io/library/debian:12 so `FROM` resolves
# with --pull=never). The result is tagged localhost/l2a:VERSION in podman's store and written as
# an OCI archive a user copies to a registry:
#   skopeo copy oci-archive:build/l2a-image.tar docker://REGISTRY/l2a:VERSION
# Usage: scripts/image.sh [--from source|binary] [BUILD_DIR]
#   --from source (make image)  the Dockerfile compiles l2a from this tree (a few minutes)
#   --from binary (the tests)   the Dockerfile takes BUILD_DIR/l2a, the binary just built
set -euo pipefail
cd "$(dirname "$0")/.."
FROM=source
if [[ ${1:-} == --from ]]; then FROM=$2; shift 2; fi
[[ $FROM == source || $FROM == binary ]] || { echo "image: --from must be source or binary, not '$FROM'" >&2; exit 64; }
BUILD=${1:-build}
command -v podman >/dev/null || { echo "image: podman is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
if [[ $FROM == binary && ! -x $BUILD/l2a ]]; then echo "image: $BUILD/l2a is missing (make build)" >&2; exit 1; fi
# The Dockerfile copies the binary from the build context (this tree; .dockerignore lets build*/l2a in).
BINARY=$(realpath --relative-to=. "$BUILD/l2a")
if [[ $FROM == binary && ! $BINARY =~ ^build[^/]*/l2a$ ]]; then
  echo "image: --from binary takes the binary of a build directory of this tree (build*/l2a), not $BUILD/l2a" >&2; exit 64
fi
VERSION=$(sed -n 's/^project(l2announcer VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
PODMAN=(podman --runtime runc)
BASE=docker.io/library/debian:12

if ! "${PODMAN[@]}" image exists "$BASE"; then
  command -v debootstrap >/dev/null || { echo "image: debootstrap is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
  MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n 's|^URIs: \(http[^ ]*/debian\)$|\1|p; s|^deb \(http[^ ]*/debian\) bookworm .*|\1|p' | head -1) || true
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  ROOT=$(mktemp -d /tmp/l2a-debian-base.XXXXXX)
  trap 'rm -rf "$ROOT"' EXIT
  echo "image: making the $BASE base with debootstrap (minbase, $MIRROR)"
  debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 ||
    { echo "image: debootstrap failed; its log is $ROOT.log" >&2; exit 1; }
  # The same suites as this machine's apt: security and point-release updates too.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" "$MIRROR" >"$ROOT/etc/apt/sources.list"
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT.log"
  tar --numeric-owner -C "$ROOT" -c . | "${PODMAN[@]}" import \
    --change 'CMD ["/bin/bash"]' -m "debootstrap --variant=minbase bookworm $MIRROR" - "$BASE" >/dev/null 2>&1 ||
    { echo "image: podman import of the base failed" >&2; "${PODMAN[@]}" rmi -f "$BASE" >/dev/null 2>&1; exit 1; }
fi

ARGS=(--pull=never --layers --build-arg "L2A_FROM=$FROM" --build-arg "L2A_BINARY=$BINARY" -f Dockerfile)
if STAMP=$(git log -1 --format=%ct 2>/dev/null); then ARGS+=(--timestamp "$STAMP"); fi
LOG=$BUILD/image-build.log
mkdir -p "$BUILD"
# The rootfs stage first: it knows the Debian packages of the libraries it copied.
"${PODMAN[@]}" build "${ARGS[@]}" --target rootfs -t "localhost/l2a-rootfs:$VERSION" . >"$LOG" 2>&1 ||
  { echo "image: the build failed; its log is $LOG" >&2; tail -5 "$LOG" >&2; exit 1; }
PACKAGES=$("${PODMAN[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "localhost/l2a-rootfs:$VERSION" cat /packages | paste -sd' ')
"${PODMAN[@]}" build "${ARGS[@]}" -t "localhost/l2a:$VERSION" \
  --label "org.opencontainers.image.version=$VERSION" --label "io.l2announcer.debian-packages=$PACKAGES" \
  --label "io.l2announcer.built-from=$FROM" . >>"$LOG" 2>&1 ||
  { echo "image: the build failed; its log is $LOG" >&2; tail -5 "$LOG" >&2; exit 1; }
rm -f "$BUILD/l2a-image.tar"
"${PODMAN[@]}" save --format oci-archive -o "$BUILD/l2a-image.tar" "localhost/l2a:$VERSION" 2>/dev/null
size=$("${PODMAN[@]}" image inspect "localhost/l2a:$VERSION" --format '{{.Size}}')
echo "image: localhost/l2a:$VERSION (from $FROM), $((size / 1024 / 1024)) MiB; OCI archive $BUILD/l2a-image.tar"
