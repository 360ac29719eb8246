# The l2a image. `make image` (scripts/image.sh) builds it with podman and no registry: the
# debian:12 base is made locally with debootstrap and `podman import`, so `--pull=never` resolves
# it. Any Docker or BuildKit engine builds it too.
#
#   L2A_FROM=source (default)  compile l2a here, from this source tree, in a Debian 12 build stage
#   L2A_FROM=binary            take the binary already built at L2A_BINARY (default build/l2a) —
#                              what the tests do, so `make test` does not compile everything twice
#   RUNTIME_PACKAGES           the Debian packages whose libraries the binary links (name or
#                              name=version to pin one)
#
# The final stage is FROM scratch: the binary, the shared libraries it links, CA certificates and
# passwd/group entries (scripts/image-rootfs.sh). The packages those come from, with the versions
# in the image, are its label io.l2announcer.debian-packages (image.sh adds it), so a build can be
# repeated with the same versions (RUNTIME_PACKAGES, and the base from the same snapshot).
ARG L2A_FROM=source

FROM debian:12 AS build-source
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake pkg-config libcli11-dev libspdlog-dev libfmt-dev libmnl-dev \
      nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev libssl-dev libre2-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY src src
# The build type the project tests (RelWithDebInfo, -O2; the debug info is stripped later).
RUN cmake -S . -B /build -DL2A_TESTS=OFF >/dev/null \
    && cmake --build /build -j"$(nproc)" --target l2a \
    && mkdir -p /out && cp /build/l2a /out/l2a

FROM debian:12 AS build-binary
ARG L2A_BINARY=build/l2a
COPY ${L2A_BINARY} /out/l2a

FROM build-${L2A_FROM} AS binary

FROM debian:12 AS rootfs
ARG RUNTIME_PACKAGES="libmnl0 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcpp-httplib0.11 libssl3 libre2-9"
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      binutils ca-certificates ${RUNTIME_PACKAGES} \
    && rm -rf /var/lib/apt/lists/*
COPY --from=binary /out/l2a /l2a
COPY scripts/image-rootfs.sh /image-rootfs.sh
RUN bash /image-rootfs.sh /l2a /rootfs /packages

FROM scratch
COPY --from=rootfs /rootfs/ /
LABEL org.opencontainers.image.title="l2a" \
      org.opencontainers.image.source="https://github.com/l2announcer/l2announcer"
USER 0
ENTRYPOINT ["/usr/bin/l2a"]
