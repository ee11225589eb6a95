# Frontdesk. `make test` runs every test; CI runs the same target.
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
export FRONTDESK_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: test vet fmt-check bench fuzz run build

## test: format check, vet, and every test (SQLite and Postgres)
test: fmt-check vet
	$(GO) test -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "not gofmt-formatted:"; echo "$$bad"; exit 1; fi

## bench: hot-path benchmarks, benchstat-friendly (make bench BENCHTIME=2s > new.txt)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./engine/ ./playbooks/

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCondition$$' -fuzztime $(FUZZTIME) ./engine/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./playbooks/

## run: serve Frontdesk with the demo data
run:
	$(GO) run ./cmd/frontdesk --demo

build:
	$(GO) build -o bin/frontdesk ./cmd/frontdesk
