# builder-ui: the admin app and the visitor widget (docs/ui.md). The
# Makefile includes this file; `make test` runs ui-test.
GO      ?= go
NPM     ?= npm
UI_DIR  := builder-ui
UI_DEPS := $(UI_DIR)/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: ui-build ui-test ui-test-unit ui-test-browser ui-check-dist ui-dev

$(UI_DEPS): $(UI_DIR)/package.json $(UI_DIR)/package-lock.json
	cd $(UI_DIR) && $(NPM) ci --no-audit --no-fund
	@touch $@

## ui-build: rebuild builder-ui/dist, which the binary embeds (commit it)
ui-build: $(UI_DEPS)
	cd $(UI_DIR) && $(NPM) run --silent typecheck && $(NPM) run --silent build

## ui-test: type checks, the widget's unit tests, the committed bundle is
## the build of the sources, and the browser tests (Chromium; see .ci/ui-deps)
ui-test: ui-test-unit ui-check-dist ui-test-browser

ui-test-unit: $(UI_DEPS)
	cd $(UI_DIR) && $(NPM) run --silent typecheck && $(NPM) run --silent test:unit

ui-check-dist: $(UI_DEPS)
	cd $(UI_DIR) && node scripts/build.mjs --check

ui-test-browser: $(UI_DEPS)
	@test -x "$(CHROMIUM)" || { echo "ui-test: no Chromium at $(CHROMIUM); run .ci/ui-deps (apt-get install chromium)"; exit 1; }
	@mkdir -p artifacts/ui
	cd $(UI_DIR) && CHROMIUM="$(CHROMIUM)" $(NPM) run --silent test:e2e

## ui-dev: the dev server with hot reload on :5173, proxying /api to :8080
ui-dev: $(UI_DEPS)
	cd $(UI_DIR) && $(NPM) run dev
