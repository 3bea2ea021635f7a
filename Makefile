# Top-level driver: every target goes through CMake and ctest, and each one
# first installs the Debian packages it needs (scripts/install-deps.sh), so
# any target works first on a fresh clone, in any order.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
DESTDIR ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all test test-asan test-tsan fuzz bench demo install deps clean

# A build tree counts as configured once CMake has generated its Makefile:
# a configure step that failed halfway leaves CMakeCache.txt alone, and
# keying on that would skip the configure step forever after.
all: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile: | deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

deps:
	@scripts/install-deps.sh test

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DEVT_SANITIZE=ON -DEVT_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

test-tsan:
	@scripts/install-deps.sh tsan
	CC=clang cmake -S . -B $(TSAN_BUILD) -DEVT_TSAN=ON -DEVT_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# libFuzzer (clang, ASan + UBSan) on the option parser, the templates and
# the input combiner, FUZZ_SECONDS each, from tests/fuzz/corpus (README).
fuzz:
	@scripts/install-deps.sh fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DEVT_FUZZ=ON -DEVT_SANITIZE=ON -DEVT_TESTS=OFF \
		-DEVT_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_opts fuzz_template fuzz_input
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: all
	@scripts/install-deps.sh bench
	@bench/run.sh $(BUILD)

demo: all
	@scripts/demo.sh $(BUILD)

# PREFIX given here wins over the one the tree was configured with; the
# installed files locate each other relative to where they land, so DESTDIR
# staging and moving the tree afterwards both work.
install: all
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
