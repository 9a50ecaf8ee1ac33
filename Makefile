# dr — make demo runs the main job on the embedded default; make test runs every test.
SWIFT ?= swift
BUILD_FLAGS ?=

.PHONY: all setup build test demo bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

# Unit and integration tests, with a real PostgreSQL server (and the AWS emulator) started
# for the run and stopped afterwards, also when tests fail.
test: setup
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	bash scripts/with-test-servers.sh $(SWIFT) test --skip-build $(BUILD_FLAGS)

demo: build
	bash scripts/demo.sh

bench: setup
	$(SWIFT) build -c release $(BUILD_FLAGS)
	bash scripts/bench.sh

clean:
	rm -rf .build
