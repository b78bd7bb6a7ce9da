# memvisor: the two commands that do everything (see README.md).
#   make run     install what is missing, build, run the main job: a scenario
#                (SCENARIO=...), its summary here and its reports in build/report
#   make test    install what is missing, build and run every test
#   make bench   install what is missing, build, run the benchmarks
.PHONY: all deps release run test bench fuzz clean

RELEASE := build/release
SCENARIO ?= scenarios/race-without-claims.scn
ARGS ?=

all: release

deps:
	@./scripts/install-deps.sh

release: deps
	@cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc >/dev/null
	@ninja -C $(RELEASE) >/dev/null

run: release
	@mkdir -p build/report
	./$(RELEASE)/memvisor run --out build/report $(ARGS) $(SCENARIO)

test: deps
	@./scripts/run-tests.sh

bench: release
	@./scripts/run-bench.sh $(RELEASE)

# A longer fuzzing session (not part of `make test`): FUZZ_SECONDS each.
FUZZ_SECONDS ?= 300
fuzz: deps
	@cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DMV_SANITIZE=address >/dev/null
	@ninja -C build/asan >/dev/null
	@for f in build/asan/tests/fuzz_*; do \
	    n=$$(basename $$f); mkdir -p build/fuzz-corpus/$$n; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz-corpus/$$n tests/fuzz/corpus/$$n; \
	done

clean:
	rm -rf build
