# Pigeon's two commands are `make dev` (the whole system on this machine) and `make test`.
# Everything they need is installed from here: Go modules through go.mod, Node tooling through
# the pinned package.json + package-lock.json files (npm ci).

SHELL        := /bin/bash
GO           ?= go
export GOFLAGS ?= -mod=mod
FUNCTIONS    := $(notdir $(wildcard functions/*))
BUILD        := build
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
# A count, not a duration: Go 1.26's fuzz coordinator can report a bare "context deadline
# exceeded" failure when a duration's deadline fires while a worker is mid-input (go.dev/issue/75804,
# fixed in Go 1.27). A count has no deadline to race; 150000 inputs take about 10 s here.
FUZZTIME     ?= 150000x

# The CDK CLI, pinned in infra/node/package*.json and installed (npm ci) into a dot directory
# under build/: node_modules/aws-cdk carries Go templates that `go list ./...` and gofmt would
# otherwise trip over. CDK_ARGS passes more options, e.g.
# CDK_ARGS="-c domains=mail.example.com -c alarmEmail=ops@example.com" (see infra/README.md).
CDK_NODE               := $(BUILD)/.cdk-cli
CDK                    := $(CDK_NODE)/node_modules/.bin/cdk
CDKLOCAL               := $(CDK_NODE)/node_modules/.bin/cdklocal
CDK_ARGS               ?=
LOCALSTACK_ENDPOINT    ?= http://localhost:4566
LOCALSTACK_S3_ENDPOINT ?= http://s3.localhost.localstack.cloud:4566

.PHONY: all dev test vet unit fuzz build bench synth deploy localstack-deploy clean

all: build

## dev: run the whole system locally (embedded DynamoDB and S3, SMTP in, REST and WebSocket out, local SES)
dev:
	$(GO) build -o $(BUILD)/pigeon-local ./infra/local/cmd/pigeon-local
	@exec ./$(BUILD)/pigeon-local

## build: every function as a linux/arm64 `bootstrap` binary under build/<name>/, as Lambda runs it.
## Prints each size and fails if one is over MAX_BOOTSTRAP_MB (1 MB = 10^6 bytes).
MAX_BOOTSTRAP_MB ?= 20
build:
	@over=; for fn in $(FUNCTIONS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BUILD)/$$fn/bootstrap ./functions/$$fn || exit 1; \
		bytes=$$(wc -c < $(BUILD)/$$fn/bootstrap); \
		awk -v fn=$$fn -v b=$$bytes -v max=$(MAX_BOOTSTRAP_MB) 'BEGIN { printf "build %-10s %5.1f MB\n", fn, b / 1e6; exit (b > max * 1e6) }' || over="$$over $$fn"; \
	done; \
	test -z "$$over" || { echo "build: bootstrap over $(MAX_BOOTSTRAP_MB) MB:$$over" >&2; exit 1; }

## test: vet, unit and end-to-end tests, a short fuzz run, the CDK synth and its assertions
test: vet synth unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l functions infra shared)" || { echo "gofmt needed:"; gofmt -l functions infra shared; exit 1; }

unit: build conformance/node_modules
	$(GO) test -count=1 -timeout 20m ./...

# The conformance suite (conformance/, run by `go test ./...`) drives the local stack with
# AgentMail's official SDK, pinned in conformance/package-lock.json; reinstalled when that changes.
conformance/node_modules: conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund
	@touch $@

fuzz:
	$(GO) test ./shared/mail -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

## synth: the CloudFormation template and assets into cdk.out/ (no AWS credentials or network needed)
synth: build
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out $(GO) run ./infra

## deploy: build, then bootstrap (once per account and Region; a no-op after) and deploy into the
## account and Region of the current AWS credentials
deploy: build
	mkdir -p $(CDK_NODE) && cp infra/node/package.json infra/node/package-lock.json $(CDK_NODE)/
	cd $(CDK_NODE) && npm ci --no-audit --no-fund
	$(CDK) bootstrap $(CDK_ARGS)
	$(CDK) deploy --require-approval broadening $(CDK_ARGS)

## localstack-deploy: deploy what LocalStack's free edition runs (-c localstack=true) to LOCALSTACK_ENDPOINT
localstack-deploy: build
	mkdir -p $(CDK_NODE) && cp infra/node/package.json infra/node/package-lock.json $(CDK_NODE)/
	cd $(CDK_NODE) && npm ci --no-audit --no-fund
	AWS_ENDPOINT_URL=$(LOCALSTACK_ENDPOINT) AWS_ENDPOINT_URL_S3=$(LOCALSTACK_S3_ENDPOINT) \
		$(CDKLOCAL) bootstrap -c localstack=true $(CDK_ARGS)
	AWS_ENDPOINT_URL=$(LOCALSTACK_ENDPOINT) AWS_ENDPOINT_URL_S3=$(LOCALSTACK_S3_ENDPOINT) \
		$(CDKLOCAL) deploy --require-approval never -c localstack=true $(CDK_ARGS)

## bench: Go benchmarks (parser, inbound, send path) and the load tools
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./infra/local/cmd/pigeon-load

clean:
	rm -rf $(BUILD) cdk.out
