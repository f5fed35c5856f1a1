# Two commands do all set-up: `make demo` and `make test`. See README.md.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SCALE ?= district
export DJANGO_SETTINGS_MODULE := gongzhi.settings

.PHONY: demo test install assets migrate seed serve lint bench bench-load clean messages screenshots

$(BIN)/gongzhi: requirements.txt requirements-dev.txt requirements-bench.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(BIN)/gongzhi

install: $(BIN)/gongzhi assets

# Front-end libraries come from the npm registry at pinned versions (package-lock.json), never a CDN.
assets: src/gongzhi/static/vendor/.stamp
src/gongzhi/static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p src/gongzhi/static/vendor/leaflet src/gongzhi/static/vendor/htmx src/gongzhi/static/vendor/echarts src/gongzhi/static/vendor/tom-select
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images src/gongzhi/static/vendor/leaflet/
	cp node_modules/htmx.org/dist/htmx.min.js src/gongzhi/static/vendor/htmx/
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE src/gongzhi/static/vendor/echarts/
	cp node_modules/tom-select/dist/js/tom-select.complete.min.js node_modules/tom-select/dist/css/tom-select.default.min.css node_modules/tom-select/LICENSE src/gongzhi/static/vendor/tom-select/
	touch $@

migrate: install
	mkdir -p var
	$(BIN)/gongzhi migrate --noinput

seed: migrate
	$(BIN)/gongzhi seed_demo --scale $(SCALE)

demo: seed
	@echo "Serving Gongzhi on http://127.0.0.1:$(PORT)/  (demo accounts: see README.md)"
	@# Queued API submits (Prefer: respond-async) become appeals through a worker beside the server;
	@# the demo's deadlines are left alone (run `gongzhi worker` for the full background work).
	$(BIN)/gongzhi worker --intake-only & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
		$(BIN)/gongzhi runserver 127.0.0.1:$(PORT) --insecure

serve: migrate
	$(BIN)/gongzhi collectstatic --noinput -v0
	GONGZHI_DEBUG=$${GONGZHI_DEBUG:-0} $(BIN)/gunicorn gongzhi.wsgi -w $${WORKERS:-2} -b 127.0.0.1:$(PORT)

test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/gongzhi makemigrations --check --dry-run
	$(BIN)/pytest -q -n $${TEST_WORKERS:-auto} $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Each demo role's home page, phone and desktop, into docs/screenshots/ (a throw-away small demo; see the script).
screenshots: install
	$(BIN)/python bench/screenshots.py

messages:
	cd src/gongzhi && ../../$(BIN)/gongzhi makemessages -l en --no-location && ../../$(BIN)/gongzhi compilemessages

bench: install
	$(BIN)/python bench/locate.py

# The daily mix under load (bench/load.py; PostgreSQL): LOAD_ARGS="--scale city --users 10,20,40 --duration 60".
bench-load: install
	$(BIN)/pip install -q -r requirements-bench.txt
	$(BIN)/python bench/load.py $(LOAD_ARGS)

clean:
	rm -rf $(VENV) node_modules src/gongzhi/static/vendor var
