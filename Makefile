# make test is the README's test command and what CI runs (.ci/run).
SHELL := /bin/bash
GOBIN_DIR := $(CURDIR)/.tools/bin
STATICCHECK_VERSION := v0.8.2
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
GO_TEST_FLAGS ?= -race -timeout 10m
# The Pulumi program's tests run without -race: a race build of pulumi-aws
# takes about 25 minutes cold on a 2-core machine, and the program is
# sequential declarations (its concurrency is the Pulumi SDK's).
INFRA_PKGS := . ./internal/infra
INFRA_TEST_FLAGS ?= -timeout 30m

.PHONY: all test tools npm-tools go-tools system-tools fmt-check vet staticcheck unit bench build workflows

all: test

test: tools fmt-check vet staticcheck unit

# npm tools the tests use (asl-validator, dynalite, @octokit webhooks examples,
# schemas and OpenAPI description, ajv, cmark-gfm, mermaid, playwright-core),
# installed from the lock file into test/tools/node_modules (ignored).
npm-tools:
	cd test/tools && npm ci --no-audit --no-fund --loglevel=error

# Go tools: staticcheck and aws-lambda-rie, pinned, into .tools/bin (ignored).
go-tools:
	@mkdir -p $(GOBIN_DIR)
	@test -x $(GOBIN_DIR)/staticcheck || GOBIN=$(GOBIN_DIR) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(GOBIN_DIR)/aws-lambda-rie || GOBIN=$(GOBIN_DIR) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

# Debian packages the tests use: chromium (headless, renders the status
# comment's Mermaid), fonts-noto-color-emoji (its emoji in screenshots) and
# awscli (the docs' Step Functions round trip). Installed when missing and
# when we may (root); otherwise the tests that need them say what to install.
SYSTEM_PACKAGES := chromium fonts-noto-color-emoji awscli
system-tools:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -q $$missing >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; } \
	    || echo "warning: could not install $$missing"; \
	else echo "note: install the Debian packages $$missing for the tests that use them"; fi

tools: npm-tools go-tools system-tools

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

staticcheck: go-tools
	$(GOBIN_DIR)/staticcheck ./...

unit:
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v -e '/internal/infra$$' -e '/ai3-mvp$$')
	go test $(INFRA_TEST_FLAGS) $(INFRA_PKGS)

bench:
	go test -run '^$$' -bench . -benchmem ./...

build:
	go build ./...

# Writes the compiled workflows to build/workflows.
workflows:
	go run ./cmd/ai3 workflows build --out build/workflows
