# Thin front door: the real build is CMake (build/), the real test runner ctest.
BUILD ?= build
JOBS ?= $(shell nproc)
# make demo's control plane: lab (the lab API server, starts in a second) or kube (kube-apiserver,
# etcd and kube-controller-manager, built from their modules the first time).
CONTROL_PLANE ?= lab

.PHONY: all bootstrap build test demo image bench bench-failover bench-churn chaos fuzz format sanitize clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The demo prints the story, not the build: one progress line, the build log in a file.
demo:
	@bash scripts/bootstrap.sh $(if $(filter kube,$(CONTROL_PLANE)),,kubectl)
	@mkdir -p $(BUILD)
	@echo "building l2a (log: $(BUILD)/build.log) ..."
	@{ cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $(BUILD) -j $(JOBS); } \
	  >$(BUILD)/build.log 2>&1 || { tail -20 $(BUILD)/build.log; echo "make demo: the build failed; the whole log is in $(BUILD)/build.log" >&2; exit 1; }
	@bash scripts/demo.sh --control-plane $(CONTROL_PLANE)

# The container image: the Dockerfile built with podman, no registry (the debian:12 base made with
# debootstrap), compiling l2a from this tree: localhost/l2a:VERSION and build/l2a-image.tar (an OCI
# archive for skopeo copy). The tests build the same Dockerfile from the binary just built.
image:
	@bash scripts/bootstrap.sh --packages-only
	bash scripts/image.sh --from source $(BUILD)

bench: build
	bash bench/run.sh

# l2a and keepalived side by side under nine failures (about an hour and a half with RUNS=10).
bench-failover: build
	bash bench/failover.sh

# Churn soak: Services, Leases and ports created and deleted for 10 minutes; RSS and metric
# series at start and end (about 13 minutes).
bench-churn: build
	bash bench/churn.sh

# The chaos suite in full (make test runs its short form).
chaos: build
	bash tests/chaos/chaos.sh full

# libFuzzer builds need clang; a separate build tree.
fuzz: bootstrap
	CXX=clang++-14 cmake -S . -B build-fuzz -DL2A_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzzers
	bash fuzz/run.sh build-fuzz $(or $(SECONDS_PER_TARGET),60)

# ASan + UBSan build running the whole suite.
sanitize: bootstrap
	cmake -S . -B build-asan -DL2A_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-fuzz build-asan
