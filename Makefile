# funcredis — the two commands a new user runs are `make run` and `make test`.

GO        ?= go
BIN       := bin/handler
DIST      := dist
PKGS      := ./...
# Test time budget: the whole suite runs in a few minutes on 2 cores.
TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: build test run bench package lint clean new-function fuzz

## build: compile the custom handler into bin/handler
build:
	$(GO) build -trimpath -o $(BIN) ./cmd/handler

## test: vet, gofmt check, and every test (with -race) against private redis-servers
test: lint
	$(GO) test $(TEST_FLAGS) $(PKGS)

## run: build and start the whole local stack (redis-server, token service, TLS gateway, host emulator) on :7071
##      TOKEN_LIFETIME=90s shows refreshes live; RUN_FLAGS="-azure" uses REDIS_HOST and your az login instead
run: build
	$(GO) build -o bin/localstack ./cmd/localstack
	exec ./bin/localstack $(if $(TOKEN_LIFETIME),-token-lifetime $(TOKEN_LIFETIME)) $(RUN_FLAGS)

## new-function: scaffold <NAME>/ from template/ (TRIGGER=http|timer, default http) and register it in cmd/handler
new-function:
	@test -n "$(NAME)" || { echo "usage: make new-function NAME=my-func TRIGGER=http|timer"; exit 2; }
	$(GO) run ./template -name '$(NAME)' -trigger '$(or $(TRIGGER),http)'

## bench: the benchmark harness (bench/README.md): results in bench/results/latest.{json,md}; QUICK=1: reduced set, bench/results/quick.{json,md}
bench: build
	$(GO) run ./bench $(if $(QUICK),-quick)

## package: linux/amd64 static binary + host.json + function folders in dist/ (what azd deploys)
package:
	rm -rf $(DIST)
	mkdir -p $(DIST)/bin
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(DIST)/bin/handler ./cmd/handler
	chmod 0755 $(DIST)/bin/handler
	cp host.json $(DIST)/
	for f in */function.json; do d=$$(dirname $$f); case $$d in template|dist) continue;; esac; mkdir -p $(DIST)/$$d; cp $$f $(DIST)/$$d/; done

## lint: gofmt, go vet, and go.mod/go.sum as go mod tidy leaves them
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) mod tidy -diff

## clean: remove build output
clean:
	rm -rf bin $(DIST)
