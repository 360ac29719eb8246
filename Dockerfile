# l2a image: built with the project's own build on Debian 12, shipping only the binary and the
# shared libraries it links.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash scripts/bootstrap.sh && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)" --target l2a

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcurl4 libmnl0 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcpp-httplib0.11 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/l2a /usr/bin/l2a
ENTRYPOINT ["/usr/bin/l2a"]
