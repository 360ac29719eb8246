#!/usr/bin/env bash
# The lab's real control plane and tools — kube-apiserver, kube-controller-manager, kubectl,
# etcd and helm — built with Go from their published modules (lab/kube/go.mod pins Kubernetes and
# etcd, lab/helm/go.mod pins helm) into a cache shared by every checkout of this machine. Never
# linked into l2a. Idempotent: a cache whose binaries report the pinned versions is used as is.
#
#   scripts/kube-binaries.sh [NAME...]          build what is missing (all, or only NAMEs),
#                                               printing one progress line per binary
#   scripts/kube-binaries.sh --dir              print the cache's bin directory (built or not)
#   scripts/kube-binaries.sh --check [NAME...]  exit 0 when they are there at their pinned versions
#
# The cache: $L2A_KUBE_CACHE (default /var/cache/l2a-lab), one directory per set of versions.
# The build log is kept beside it; an error names it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# One source of truth for the versions: the require lines of our go.mod files.
required() {  # required GO_MOD MODULE
  awk -v m="$2" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$1"
}
KUBE_VERSION=$(required "$ROOT/lab/kube/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(required "$ROOT/lab/kube/go.mod" go.etcd.io/etcd/server/v3)
HELM_VERSION=$(required "$ROOT/lab/helm/go.mod" helm.sh/helm/v3)
CACHE=${L2A_KUBE_CACHE:-/var/cache/l2a-lab}
BIN=$CACHE/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin
LOG=$CACHE/build.log

# name|module directory|package|what --version must print
TOOLS=(
  "etcd|lab/kube|go.etcd.io/etcd/server/v3|etcd Version: ${ETCD_VERSION#v}"
  "kube-apiserver|lab/kube|k8s.io/kubernetes/cmd/kube-apiserver|Kubernetes $KUBE_VERSION"
  "kube-controller-manager|lab/kube|k8s.io/kubernetes/cmd/kube-controller-manager|Kubernetes $KUBE_VERSION"
  "kubectl|lab/kube|k8s.io/kubernetes/cmd/kubectl|Client Version: $KUBE_VERSION"
  "helm|lab/helm|helm.sh/helm/v3/cmd/helm|Version:\"$HELM_VERSION\""
)

version_of() {  # version_of NAME: what the built binary says about its version
  case $1 in
    kubectl) "$BIN/kubectl" version --client 2>/dev/null ;;
    helm) "$BIN/helm" version 2>/dev/null ;;
    *) "$BIN/$1" --version 2>/dev/null ;;
  esac
}

is_current() {  # is_current NAME EXPECTED
  [[ -x $BIN/$1 ]] || return 1
  local said
  said=$(version_of "$1")
  [[ $said == *"$2"* ]]
}

WANTED=()  # names asked for; empty: all
wanted() { ((${#WANTED[@]} == 0)) || [[ " ${WANTED[*]} " == *" $1 "* ]]; }

all_current() {
  local t name dir pkg want
  for t in "${TOOLS[@]}"; do
    IFS='|' read -r name dir pkg want <<<"$t"
    wanted "$name" || continue
    is_current "$name" "$want" || return 1
  done
}

# What the release build stamps into the binaries (hack/lib/version.sh), with a fixed date so a
# rebuild gives the same bytes.
kube_ldflags() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local key val flags="-s -w"
  for kv in "gitVersion=$KUBE_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
    buildDate=1970-01-01T00:00:00Z; do
    key=${kv%%=*}
    val=${kv#*=}
    flags+=" -X k8s.io/client-go/pkg/version.$key=$val -X k8s.io/component-base/version.$key=$val"
  done
  echo "$flags"
}

build() {
  # Go is on this kind of machine in /usr/local/go, not always on a CI shell's PATH.
  [[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || { echo "kube-binaries: error: no Go toolchain on the PATH (needed to build the lab's control plane)" >&2; exit 1; }
  mkdir -p "$BIN"
  : >"$LOG"
  local t name dir pkg want flags i=0 start all_start
  all_start=$(date +%s)
  for t in "${TOOLS[@]}"; do
    i=$((i + 1))
    IFS='|' read -r name dir pkg want <<<"$t"
    wanted "$name" || continue
    is_current "$name" "$want" && continue
    case $name in
      helm) flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" ;;
      etcd) flags="-s -w" ;;
      *) flags=$(kube_ldflags) ;;
    esac
    start=$(date +%s)
    printf 'kube-binaries: building %s (%d of %d) ... ' "$name" "$i" "${#TOOLS[@]}"
    echo "== go build $pkg" >>"$LOG"
    if ! (cd "$ROOT/$dir" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "$flags" \
      -o "$BIN/$name.new" "$pkg") >>"$LOG" 2>&1; then
      echo "failed"
      echo "kube-binaries: error: building $name failed; see $LOG" >&2
      exit 1
    fi
    mv "$BIN/$name.new" "$BIN/$name"
    echo "$(($(date +%s) - start)) s"
    is_current "$name" "$want" || {
      echo "kube-binaries: error: $BIN/$name does not report '$want'; see $LOG" >&2
      exit 1
    }
  done
  echo "kube-binaries: ready in $BIN ($(($(date +%s) - all_start)) s, $(du -sh "$BIN" | cut -f1))"
}

usage() { echo "usage: scripts/kube-binaries.sh [--dir | --check] [etcd|kube-apiserver|kube-controller-manager|kubectl|helm ...]" >&2; exit 64; }
mode=build
case ${1:-} in
  --dir) echo "$BIN"; exit 0 ;;
  --check) mode=check; shift ;;
  -*) usage ;;
esac
for name in "$@"; do
  [[ " ${TOOLS[*]} " == *" $name|"* ]] || usage
  WANTED+=("$name")
done
if [[ $mode == check ]]; then all_current; else all_current || build; fi
