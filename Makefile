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

test: setup
	swift test

# One training step of UNet base_c 32 bilinear, batch 4, 3x256x256 (see README).
bench: release
	.build/release/runexp bench

clean:
	rm -rf .build
