# Two commands set everything up: `make run` serves, `make test` checks. Both build .venv first:
# `make run` with what serving needs, `make test` with the dev extra (tests, linters, benchmarks).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SERVING := $(VENV)/.serving
STAMP := $(VENV)/.installed

# The web app's sources: when any is newer than web/dist/index.html, `make run` builds it again.
WEB_SOURCES := $(wildcard web/index.html web/package.json web/package-lock.json web/vite.config.* \
	web/tsconfig*.json web/src web/public clients/typescript/src)

.PHONY: run web test lint typecheck jstest chromium pytest migrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVING): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVING)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(SERVING)

# Prints why the web app cannot be served (nothing when web/dist is current or was just built);
# npm's own output goes to stderr. Without Node.js 20 or a working build, the API is served alone.
define web_app
if [ ! -f web/package.json ]; then \
	echo "no web/ in this checkout"; \
elif [ -f web/dist/index.html ] && \
	[ -z "$$(find $(WEB_SOURCES) -newer web/dist/index.html 2>/dev/null | head -n 1)" ]; then \
	:; \
elif [ "$$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')" -ge 20 ] 2>/dev/null; then \
	echo "building web/dist (npm ci && npm run build in web/)" >&2; \
	(cd web && { [ node_modules/.installed -nt package-lock.json ] \
		|| { npm ci --no-audit --no-fund && mkdir -p node_modules && touch node_modules/.installed; }; } \
		&& npm run build) >&2 \
		|| echo "web/dist not built: npm ci && npm run build failed (see above)"; \
elif [ -f web/dist/index.html ]; then \
	echo "web/dist is older than web/ and Node.js 20 or later was not found to build it again"; \
else \
	echo "web/dist not built: Node.js 20 or later not found"; \
fi
endef

run: $(SERVING)
	@reason=$$($(web_app)); \
	TWOFOLD_WEB_NOT_SERVED="$$reason" exec $(BIN)/python -m server serve

# web/dist, built when its sources changed; fails when it cannot be (for the browser tests).
web:
	@reason=$$($(web_app)); if [ -n "$$reason" ]; then echo "$$reason" >&2; exit 1; fi

migrate: $(SERVING)
	$(BIN)/python -m server migrate

lint: $(STAMP)
	$(BIN)/ruff check server schemas push tests bench deploy/local-cluster
	$(BIN)/ruff format --check server schemas push tests bench deploy/local-cluster

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# The TypeScript client and the web app: their packages from their lock files, exactly.
CLIENT := clients/typescript
CLIENT_DEPS := $(CLIENT)/node_modules/.installed
WEB_DEPS := web/node_modules/.installed

$(CLIENT_DEPS): $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	touch $@

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

# The client's type check and its unit tests (no network), and the web app's type check. The
# client's integration tests and the browser tests run inside pytest, against real nodes.
jstest: $(CLIENT_DEPS) $(WEB_DEPS)
	cd $(CLIENT) && npm run --silent typecheck && npm test --silent
	cd web && npm run --silent typecheck

# The browser tests drive Debian's Chromium; a test tool's own browser download is never used.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get install -y --no-install-recommends chromium \
		|| { $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends chromium; }; }

test: lint typecheck jstest web chromium pytest

# `make bench BENCH=pause` runs one; figures go to bench/results/<name>.json.
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(BENCH),--only $(BENCH))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
