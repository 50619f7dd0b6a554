# Developer entry points. CI runs .ci/run; these are the same checks by hand.

GO       ?= go
FUZZTIME ?= 10s

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-poll cross bench bench-scale fuzz lint staticcheck clean

all: lint test build

# build: the command-line interpreter, bin/copas-lua: one static binary
# (no cgo), the same bytes for the same checkout and toolchain
# (-trimpath; the version comes from the build information).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/copas-lua ./cmd/copas-lua

test:
	$(GO) test -race ./...

# test-poll: the poll(2) poller of macOS and FreeBSD, tested on Linux.
test-poll:
	$(GO) test -race -tags copaslua_poll ./scheduler/ ./luamod/socket/ ./luamod/copas/

# cross: macOS and FreeBSD build and vet.
cross:
	GOOS=darwin $(GO) build ./... && GOOS=darwin $(GO) vet ./...
	GOOS=freebsd $(GO) build ./... && GOOS=freebsd $(GO) vet ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# bench-scale: the echo server at 50 and 500 connections beside Copas on
# LuaJIT, and 1,000..19,000 held connections (bench/README.md).
bench-scale: build
	$(GO) run ./bench/echobench

# fuzz: each Fuzz target in turn for FUZZTIME (go test -fuzz takes one
# target of one package at a time).
fuzz:
	@found=0; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			found=1; echo "fuzz $$dir $$f ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$dir || exit 1; \
		done; \
	done; \
	if [ $$found = 0 ]; then echo "no Fuzz targets found"; fi

lint: staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
