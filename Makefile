# Entry points. Everything installs what it needs first (scripts/install-deps.sh, idempotent).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 60
KAFKA      ?= real
DEMO_S3    ?= minio

.PHONY: all deps build test test-fast test-asan fuzz bench demo install deb clean lint

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The whole suite: unit, CLI golden and integration tests on the normal build, then the same tests
# (minus the heavy "slow" ones) under ASan+UBSan, then the parser fuzzer for FUZZ_SECONDS.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -LE bench
	$(MAKE) test-asan
	$(MAKE) fuzz

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -LE integration

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) -LE 'slow|bench'

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers
	bash scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# clang-tidy with the project's .clang-tidy over common/ and tools/ (sensor-parse's parser through its
# unity source, as it is built); any finding fails.
lint: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	run-clang-tidy -p $(BUILD) -j $(JOBS) -quiet '$(CURDIR)/(common|tools)/|/Unity/unity_'

# Every tool against its reference tool (scripts/bench.sh): BENCH_PAIRS (5), BENCH_WARMUP (1),
# BENCH_MESSAGES (1000000; e.g. 20000 for a short run), BENCH_ONLY="parse ch ..." (a subset of sections).
# First the bench's own checks (ctest label "bench": the Spark baseline stores the same rows as ours).
# The seed_spark section (the PySpark job the toolkit replaces) needs `scripts/spark.sh install` once; skipped without.
# The profile section: where the deployed pipeline's CPU and idle time go. The soak section (last): the README's
# deployed block for BENCH_SOAK_MESSAGES (20x BENCH_MESSAGES) at BENCH_SOAK_RATE/s (100000); BENCH_SOAK=0 skips it.
bench: build
	ctest --test-dir $(BUILD) --output-on-failure -L bench
	bash scripts/bench.sh $(BUILD)

# KAFKA=mock: librdkafka's mock cluster instead of a real Apache Kafka broker (no JVM, quicker start);
# DEMO_S3=swift: OpenStack Swift's S3 layer instead of MinIO
demo: build
	KAFKA=$(KAFKA) DEMO_S3=$(DEMO_S3) bash scripts/demo.sh $(BUILD)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian package (CPack over the install rules, prefix /usr) in $(BUILD)/deb/, checked by lintian.
deb: build
	cd $(BUILD) && cpack -G DEB
	lintian --fail-on error,warning $(BUILD)/deb/sensor-pipeline_*.deb
	@ls $(BUILD)/deb/sensor-pipeline_*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
