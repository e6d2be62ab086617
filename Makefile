# funcredis — the two commands a new user runs are `make run` and `make test`.

GO        ?= go
BIN       := bin/handler
DIST      := dist
PKGS      := ./...
# Test time budget: the whole suite runs in a few minutes on 2 cores.
TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: build test run bench package lint refs clean new-function new-app fuzz

## build: compile the custom handler into bin/handler
build:
	$(GO) build -trimpath -o $(BIN) ./cmd/handler

## test: vet, gofmt check, every test (with -race) against private redis-servers, and 20 s of FuzzWire
test: lint
	$(GO) test $(TEST_FLAGS) $(PKGS)
	$(GO) test -run '^$$' -fuzz '^FuzzWire$$' -fuzztime 20s ./pool

## fuzz: the connection tracker's differential fuzz test against a real redis-server, FUZZTIME long (default 10m)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzWire$$' -fuzztime $(or $(FUZZTIME),10m) -timeout 0 ./pool

## run: build and start the whole local stack (redis-server, token service, TLS gateway, host emulator) on :7071
##      TOKEN_LIFETIME=90s shows refreshes live; RUN_FLAGS="-azure" uses REDIS_HOST and your az login instead
run: build
	$(GO) build -o bin/localstack ./cmd/localstack
	exec ./bin/localstack $(if $(TOKEN_LIFETIME),-token-lifetime $(TOKEN_LIFETIME)) $(RUN_FLAGS)

## new-function: scaffold <NAME>/ from template/ (TRIGGER=http|timer, default http) and register it in cmd/handler
new-function:
	@test -n "$(NAME)" || { echo "usage: make new-function NAME=my-func TRIGGER=http|timer"; exit 2; }
	$(GO) run ./cmd/funcredis function -name '$(NAME)' -trigger '$(or $(TRIGGER),http)'

## new-app: a new app in DIR that depends on this checkout (MODULE=example.com/x; FUNCTION=hello,
##          TIMER=name, WITH_CACHE=1 optional); from no checkout: go run github.com/funcredis/funcredis/cmd/funcredis@latest new
new-app:
	@test -n "$(DIR)" || { echo "usage: make new-app DIR=../orders-api MODULE=example.com/orders-api [FUNCTION=hello] [TIMER=nightly] [WITH_CACHE=1]"; exit 2; }
	$(GO) run ./cmd/funcredis new -replace '$(CURDIR)' $(if $(MODULE),-module '$(MODULE)') $(if $(FUNCTION),-function '$(FUNCTION)') \
		$(if $(TIMER),-timer '$(TIMER)') $(if $(WITH_CACHE),-with-cache) '$(DIR)'

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

## lint: gofmt, go vet, go.mod/go.sum as go mod tidy leaves them, and no reference that leads outside this repository
lint: refs
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) mod tidy -diff

# OUTSIDE matches references to documents that exist only next to this repository, in the
# workspace it was written in: users clone the repository alone. Cite a public URL instead.
OUTSIDE := \.\./shared|/work/shared|[Tt]he seed([^a-z]|$$)|seed-auth-flow|entra-redis-clients\.md|functions-custom-handler\.md|DESIGN\.md
REFS_EXEMPT := ':!Makefile'

## refs: fail on a reference outside the repository, or a relative Markdown link that does not resolve inside it
refs:
	@bad=$$(git grep --untracked -n -I -E '$(OUTSIDE)' -- . $(REFS_EXEMPT)); \
	if [ -n "$$bad" ]; then echo "references outside the repository (it is cloned alone; cite a public URL):"; echo "$$bad"; exit 1; fi
	@root=$$(pwd -P); status=0; \
	for f in $$(git ls-files --cached --others --exclude-standard '*.md'); do \
	  for l in $$(grep -oE '\]\([^)[:space:]]+\)' "$$f" | sed -E 's/^\]\(//; s/\)$$//; s/#.*//'); do \
	    case "$$l" in ''|*:*) continue;; esac; \
	    t=$$(realpath -m "$$(dirname "$$f")/$$l"); \
	    case "$$t" in "$$root"/*) [ -e "$$t" ] || { echo "$$f: link $$l does not exist"; status=1; };; \
	      *) echo "$$f: link $$l leads outside the repository"; status=1;; esac; \
	  done; \
	done; exit $$status

## clean: remove build output
clean:
	rm -rf bin $(DIST)
