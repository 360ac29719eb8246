#!/usr/bin/env bash
# Installs everything the build, the tests, the demo and the benchmarks need, from Debian 12
# packages, and the lab's Kubernetes binaries (scripts/kube-binaries.sh; all of them, or only the
# ones named as arguments; none with --packages-only). Idempotent: does nothing when everything is already there. Run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang-14 libclang-rt-14-dev
  # libraries (see README "Dependencies")
  libcli11-dev libspdlog-dev libfmt-dev libmnl-dev nlohmann-json3-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libssl-dev libre2-dev
  # network lab and real clients used by tests and the demo
  iproute2 iputils-ping arping ndisc6 curl python3 nftables procps openssl
  # promtool (a real Prometheus parser) checks the /metrics output in the tests
  prometheus
  # the reference in the fail-over benchmark (bench/failover.sh)
  keepalived
  # reads manifests in the tests (the Helm chart itself is rendered by the real helm)
  python3-yaml
  # draws the diagrams in docs/ (scripts/diagrams.sh; the docs test draws them again)
  graphviz
  # the container image (make image): daemonless podman with runc (crun refuses hybrid cgroups),
  # and debootstrap for the debian:12 base the Dockerfile names (no registry); skopeo and a
  # registry (run by the image test on loopback only) to push it as docs/install.md says
  podman runc debootstrap skopeo docker-registry
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "bootstrap: missing packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists when they are absent or older than a day.
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
  # Debian's docker-registry starts a registry on every interface where systemd runs: the image
  # test runs its own on loopback instead.
  if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

# The lab's real control plane and tools (etcd, kube-apiserver, kube-controller-manager, kubectl,
# helm), built with Go from their pinned modules into a cache the first time (about 10 minutes on
# 2 cores; nothing to do afterwards). The lab's kubectl is this one, not Debian's (1.20, too old).
# `bootstrap.sh kubectl` builds only kubectl (plain `make demo`, on the lab API server);
# `bootstrap.sh --packages-only` none (make image).
[[ ${1:-} == --packages-only ]] && exit 0
bash "$(dirname "$0")/kube-binaries.sh" "$@"
