# Thin wrapper around CMake. `make collect` and `make test` are the README's two commands;
# both install what they need on a fresh Debian 12 machine first (`make deps`).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
VG_BUILD   ?= build-valgrind
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
OUT        ?= ./evidence

DEB_PACKAGES = build-essential cmake pkg-config ntfs-3g libarchive-dev libssl-dev libjansson-dev \
  zlib1g-dev libzstd-dev liblzma-dev libbz2-dev liblz4-dev libacl1-dev nettle-dev \
  libarchive-tools zstd jq python3 python3-jsonschema strace time file openssl \
  clang-14 libclang-rt-14-dev valgrind util-linux age unzip p7zip-full

.PHONY: all deps build asan collect test test-release test-asan fuzz valgrind bench clean

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

# libFuzzer: the manifest checks, the archive-reading path and the content tests
# (fuzz_scan) and the age decryptor (fuzz_age), FUZZ_SECONDS each, starting
# from the seed corpus in tests/fuzz/corpus (new inputs go to a scratch directory).
fuzz: deps
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCUSTODY_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_manifest fuzz_archive fuzz_scan fuzz_age
	set -e; for t in manifest archive scan age; do \
	  scratch=$$(mktemp -d); \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  rc=0; $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $$scratch tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/fuzz-$$t.log 2>&1 || rc=$$?; \
	  tail -n 12 $(FUZZ_BUILD)/fuzz-$$t.log; rm -rf $$scratch; \
	  if [ $$rc -ne 0 ]; then echo "fuzz_$$t: FAILED (exit $$rc; crash input in $(FUZZ_BUILD)/crash-$$t-*)"; exit 1; fi; \
	done

# valgrind (memcheck) over the real verbs on a fixture, with a plain dynamic debug build.
valgrind: deps
	cmake -S . -B $(VG_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCUSTODY_STATIC=OFF
	cmake --build $(VG_BUILD) -j $(JOBS) --target custody
	CUSTODY=$(CURDIR)/$(VG_BUILD)/custody CUSTODY_SRC=$(CURDIR) CUSTODY_WORK=$(CURDIR)/$(VG_BUILD)/work \
	  bash tests/valgrind.sh

# The whole suite: release binary, again under ASan+UBSan, a short fuzz run, valgrind.
test: test-release test-asan fuzz valgrind

bench: build
	bash tests/bench/bench.sh $(BUILD)/custody

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(VG_BUILD)
