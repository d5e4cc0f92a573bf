# Pigeon's two commands are `make dev` (the whole system on this machine) and `make test`.
# Everything they need is installed from here: Go modules through go.mod, Node tooling through
# the pinned package.json + package-lock.json files (npm ci).

SHELL        := /bin/bash
GO           ?= go
export GOFLAGS ?= -mod=mod
FUNCTIONS    := $(notdir $(wildcard functions/*))
BUILD        := build
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
FUZZTIME     ?= 10s

.PHONY: all dev test vet unit fuzz build bench synth clean

all: build

## dev: run the whole system locally (embedded DynamoDB and S3, SMTP in, REST and WebSocket out, local SES)
dev:
	$(GO) build -o $(BUILD)/pigeon-local ./infra/local/cmd/pigeon-local
	@exec ./$(BUILD)/pigeon-local

## build: every function as a linux/arm64 `bootstrap` binary under build/<name>/, as Lambda runs it
build:
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BUILD)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

## test: vet, unit and end-to-end tests, a short fuzz run, the CDK synth and its assertions
test: vet unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l functions infra shared)" || { echo "gofmt needed:"; gofmt -l functions infra shared; exit 1; }

unit: build
	$(GO) test -count=1 -timeout 20m ./...

fuzz:
	$(GO) test ./shared/mail -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

## bench: Go benchmarks (parser, inbound, send path) and the load tools
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BUILD) cdk.out
