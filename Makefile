# Frontdesk. `make test` runs every test; CI runs the same target.
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
export FRONTDESK_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export FRONTDESK_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: test vet fmt-check openapi-lint bench fuzz run build

.DEFAULT_GOAL := test
include ui.mk

## test: format check, vet, the OpenAPI lint, every Go test (SQLite,
## Postgres and Redis on 127.0.0.1), then the UI's tests (Chromium)
test: fmt-check vet openapi-lint
	$(GO) test -count=1 $(PKGS)
	bash .ci/ui-deps
	$(MAKE) ui-test

## openapi-lint: lint the API's OpenAPI document with Redocly's linter
openapi-lint: tools/openapi/node_modules/.bin/redocly
	@mkdir -p build
	$(GO) run ./cmd/frontdesk openapi > build/openapi.json
	tools/openapi/node_modules/.bin/redocly lint --config tools/openapi/redocly.yaml build/openapi.json

tools/openapi/node_modules/.bin/redocly: tools/openapi/package.json tools/openapi/package-lock.json
	cd tools/openapi && npm ci --no-audit --no-fund
	@touch $@

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "not gofmt-formatted:"; echo "$$bad"; exit 1; fi

## bench: hot-path benchmarks, benchstat-friendly (make bench BENCHTIME=2s > new.txt)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./engine/ ./playbooks/ ./wire/ ./realtime/ ./knowledge/ ./storage/ ./chat/

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCondition$$' -fuzztime $(FUZZTIME) ./engine/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./playbooks/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeClient$$' -fuzztime $(FUZZTIME) ./wire/
	$(GO) test -run '^$$' -fuzz '^FuzzSearch$$' -fuzztime $(FUZZTIME) ./knowledge/

## run: serve Frontdesk with the demo data
run:
	$(GO) run ./cmd/frontdesk --demo

build:
	$(GO) build -o bin/frontdesk ./cmd/frontdesk
