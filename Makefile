# The two commands: `make run` (the whole local stack, until Ctrl-C) and `make test` (the whole suite).
# Everything they need is installed from the project's own files; a second run re-downloads nothing.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
KAFKA_JARS := var/kafka/jars
OIDC_JARS  := var/oidc/jars
# The local stack, the benchmark and the fault suite are the dev environment; every process refuses to start
# without SEVA_ENV (services/common/settings.py).
export SEVA_ENV ?= dev

.PHONY: run test check lock bench faults install kafka-jars oidc-jars toxiproxy promtool temporal-ui temporal-server portal-assets debs browser clean

install: $(VENV)/.installed kafka-jars oidc-jars portal-assets debs

# Exactly what CI tested: the whole dependency tree pinned in requirements/dev.lock (`make lock` writes it from
# pyproject.toml with uv), then the project itself without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# requirements/runtime.lock is what a production image installs (no dev server, no test tools); dev.lock adds
# the [dev] extra (which takes [bench]).
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 -o requirements/runtime.lock
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 --extra dev -o requirements/dev.lock

kafka-jars: $(KAFKA_JARS)/.resolved

$(KAFKA_JARS)/.resolved: deploy/kafka/pom.xml
	mkdir -p $(KAFKA_JARS)
	rm -f $(KAFKA_JARS)/*.jar
	mvn -B -q -f deploy/kafka/pom.xml org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(KAFKA_JARS)
	touch $@

oidc-jars: $(OIDC_JARS)/.resolved

# The officers' identity provider of the local stack (deploy/local/oidc.py).
$(OIDC_JARS)/.resolved: deploy/oidc/pom.xml
	mkdir -p $(OIDC_JARS)
	rm -f $(OIDC_JARS)/*.jar
	mvn -B -q -f deploy/oidc/pom.xml org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(OIDC_JARS)
	touch $@

# The portal's front-end assets, pinned in deploy/portal/package-lock.json, fetched from npm at build time and
# copied where the portal serves them (services/portal/static/vendor); nothing of Node runs at run time.
PORTAL_VENDOR := services/portal/static/vendor
FONTS := deploy/portal/node_modules/@fontsource
portal-assets: $(PORTAL_VENDOR)/.copied

$(PORTAL_VENDOR)/.copied: deploy/portal/package.json deploy/portal/package-lock.json
	npm ci --prefix deploy/portal --no-audit --no-fund --loglevel=error
	rm -rf $(PORTAL_VENDOR) && mkdir -p $(PORTAL_VENDOR)
	cp deploy/portal/node_modules/htmx.org/dist/htmx.min.js \
	   $(FONTS)/noto-sans-devanagari/files/noto-sans-devanagari-devanagari-400-normal.woff2 \
	   $(FONTS)/noto-sans/files/noto-sans-latin-400-normal.woff2 \
	   $(FONTS)/noto-sans/files/noto-sans-latin-700-normal.woff2 $(PORTAL_VENDOR)/
	touch $@

# Debian packages: the Noto fonts for the order's Devanagari (Typst finds them), Chromium for the portal's
# browser tests (driven by Playwright through executable_path). apt-get runs only when one is missing.
DEBS := chromium fonts-noto-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
debs:
	@dpkg -s $(DEBS) >/dev/null 2>&1 || ( $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(DEBS) )

run: install temporal-ui
	$(BIN)/seva run

# Lint, format and types alone, in seconds: ruff over everything, mypy strict over the contract, the workflows,
# every service (the portal included) and ops/ (bench/, deploy/ and tests/ are not type-checked yet).
check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install check promtool temporal-ui
	$(BIN)/pytest -q -p no:cacheprovider

bench: install temporal-server
	$(BIN)/seva bench $(BENCH_ARGS)

faults: install toxiproxy temporal-server
	$(BIN)/seva faults $(FAULTS_ARGS)

# Toxiproxy (network faults for `make faults`), built from the Go module proxy once.
TOXIPROXY := var/tools/toxiproxy-server
toxiproxy: $(TOXIPROXY)

$(TOXIPROXY):
	mkdir -p var/tools
	GOBIN=$(CURDIR)/var/tools go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0
	mv var/tools/server $@

# promtool (the alert rules' tests), built from the Go module proxy once (a few minutes the first time).
PROMTOOL := var/tools/promtool
promtool: $(PROMTOOL)

$(PROMTOOL):
	mkdir -p var/tools
	GOBIN=$(CURDIR)/var/tools go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0

# The standalone Temporal UI server, where operations staff sign in through the identity provider and read cases
# through the codec. Built from the Go module proxy once (about a minute), from a wrapper module: the UI server's
# own go.mod pins two versions the proxy refuses (deploy/temporal-ui/go.mod pins ones it serves).
TEMPORAL_UI := var/tools/temporal-ui-server
temporal-ui: $(TEMPORAL_UI)

$(TEMPORAL_UI): deploy/temporal-ui/go.mod deploy/temporal-ui/go.sum
	mkdir -p var/tools
	cd deploy/temporal-ui && GOTOOLCHAIN=go1.27.3 go build -o $(CURDIR)/$@ github.com/temporalio/ui-server/v2/cmd/server

# The production engine for `seva bench --engine production`: the Temporal server and its SQL tool at the version
# deploy/production names, with the PostgreSQL schema files of the same module (about 9 minutes the first time).
TEMPORAL_SERVER_VERSION := v1.32.2
TEMPORAL_SERVER := var/tools/temporal-server
temporal-server: $(TEMPORAL_SERVER)

$(TEMPORAL_SERVER):
	mkdir -p var/tools/go-bin
	GOTOOLCHAIN=go1.27.3 GOBIN=$(CURDIR)/var/tools/go-bin go install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	rm -rf var/tools/temporal-schema
	cp -r "$$(go env GOMODCACHE)/go.temporal.io/server@$(TEMPORAL_SERVER_VERSION)/schema/postgresql/v12" var/tools/temporal-schema
	chmod -R u+w var/tools/temporal-schema
	mv var/tools/go-bin/sql var/tools/temporal-sql-tool
	mv var/tools/go-bin/server $@

clean:
	rm -rf var/run
