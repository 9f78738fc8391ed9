# Thin wrapper around CMake. `make collect` and `make test` are the README's two commands;
# both install what they need on a fresh Debian 12 machine first (`make deps`).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
OUT        ?= ./evidence

DEB_PACKAGES = build-essential cmake pkg-config libarchive-dev libssl-dev libjansson-dev \
  zlib1g-dev libzstd-dev liblzma-dev libbz2-dev liblz4-dev libacl1-dev nettle-dev \
  libarchive-tools zstd jq python3 python3-jsonschema strace time file openssl

.PHONY: all deps build asan collect test test-release test-asan bench clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCUSTODY_STATIC=ON
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCUSTODY_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# A real collection of this machine with the embedded default profile, then verification.
collect: build
	mkdir -p $(OUT)
	archive=$$($(BUILD)/custody collect --out $(OUT) | tail -n 1) && \
	  echo "archive: $$archive" && $(BUILD)/custody verify "$$archive"

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

# The whole suite, on the release binary and again under ASan+UBSan.
test: test-release test-asan

bench: build
	bash tests/bench/bench.sh $(BUILD)/custody

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
