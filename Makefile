# The two commands of the README: `make demo` and `make test`.
.PHONY: setup build release demo test bench clean

# Which oneDNN the kernels link: `debian` (default), Debian's libdnnl-dev (2.x); `pypi`, Intel's
# oneDNN 3.2 wheel from PyPI (GNU OpenMP build), fetched into .build/onednn-pypi by
# scripts/onednn_pypi.sh and built in its own build folder: `make ONEDNN=pypi test`.
ONEDNN ?= debian
ifeq ($(ONEDNN),debian)
SWIFT_FLAGS :=
BIN := .build/release/runexp
else ifeq ($(ONEDNN),pypi)
ONEDNN_DIR := $(CURDIR)/.build/onednn-pypi/oneDNN
SWIFT_FLAGS := --scratch-path .build/onednn-pypi -Xcc -I$(ONEDNN_DIR)/include \
	-Xlinker -L$(ONEDNN_DIR)/lib -Xlinker -rpath -Xlinker $(ONEDNN_DIR)/lib
BIN := .build/onednn-pypi/release/runexp
else
$(error ONEDNN is debian or pypi, not '$(ONEDNN)')
endif

# The Swift loops (resizing, sums, bf16 conversions, the optimisers) are compiled for the CPU
# that builds them, as llama.cpp's default -march=native build is: on AVX-512 they run 2-3x
# faster than at x86-64's baseline SSE2. `make NATIVE=0 ...` builds a binary for any x86-64.
NATIVE ?= 1
ifeq ($(NATIVE)$(shell uname -m),1x86_64)
SWIFT_FLAGS += -Xswiftc -target-cpu -Xswiftc native
endif

setup:
	@bash scripts/setup.sh
ifeq ($(ONEDNN),pypi)
	@bash scripts/onednn_pypi.sh "$(ONEDNN_DIR)"
endif

build: setup
	swift build $(SWIFT_FLAGS)

release: setup
	swift build -c release $(SWIFT_FLAGS)

# The main job on the built-in synthetic data.
demo: release
	$(BIN) experiments/quickstart.yaml

# Tests run optimised (-O: the layers' loops are 10-50x slower without it) and drive the release
# binary, the one users run, for the command-line and bad-input tests.
test: release
	RUNEXP_BINARY="$(CURDIR)/$(BIN)" swift test -Xswiftc -O $(SWIFT_FLAGS)

# One training step of UNet base_c 32 bilinear, batch 4, 3x256x256 (see README).
bench: release
	$(BIN) bench

clean:
	rm -rf .build
