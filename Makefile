# The two commands of the README: `make demo` and `make test`.
.PHONY: setup build release demo test bench clean

setup:
	@bash scripts/setup.sh

build: setup
	swift build

release: setup
	swift build -c release

# The main job on the built-in synthetic data.
demo: release
	.build/release/runexp experiments/quickstart.yaml

# Tests run optimised (-O: the layers' loops are 10-50x slower without it) and drive the release
# binary, the one users run, for the command-line and bad-input tests.
test: release
	RUNEXP_BINARY="$(CURDIR)/.build/release/runexp" swift test -Xswiftc -O

# One training step of UNet base_c 32 bilinear, batch 4, 3x256x256 (see README).
bench: release
	.build/release/runexp bench

clean:
	rm -rf .build
