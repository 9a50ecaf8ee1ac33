# dr — make demo runs the main job on the embedded default; make test runs every test.
SWIFT ?= swift
BUILD_FLAGS ?=
PREFIX ?= /usr/local
# make install builds a release binary unless BINARY names one already built.
BINARY ?=

.PHONY: all setup build test demo bench clean install uninstall runbooks examples

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

# PREFIX/bin/dr, the runbooks in PREFIX/share/dr/runbooks, shell completions; uninstall
# removes exactly those (scripts/install.sh keeps a manifest).
install:
	bash scripts/install.sh install "$(PREFIX)" "$(BINARY)"

uninstall:
	bash scripts/install.sh uninstall "$(PREFIX)"

# Regenerates the runbooks compiled into the binary from runbooks/*.yml (a test fails when stale).
runbooks:
	python3 scripts/generate-shipped-runbooks.py

# The rendered examples in docs/: a real drill page and history page from real drills on a
# local PostgreSQL, with PNG screenshots from headless Chromium.
examples: build
	bash scripts/examples.sh

clean:
	rm -rf .build
