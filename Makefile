# CarrierHub: `make run` serves the platform, `make test` runs the suite (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_ARGS ?= -n 2

.PHONY: help install install-dev run test lint format bench bench-portal bench-search bench-growth bench-payments bench-deliveries bench-gateway stop messages worker beat clean
.PHONY: bench-settlement
.PHONY: bench-risk
.PHONY: bench-content
.PHONY: bench-flash bench-checkout-marketing
.PHONY: bench-analytics
.PHONY: citus cluster-start cluster-stop test-cluster run-cluster

help:
	@echo "make run    - install, migrate, seed demo data and serve mall, API, workbench and sandbox"
	@echo "make test   - install test tools and run the whole suite"
	@echo "make lint   - ruff, ruff format --check, mypy, import-linter contracts, makemigrations --check"
	@echo "make bench  - run every benchmark in loadtests/ and print one summary (docs/performance.md);"
	@echo "              bench-portal, bench-search, bench-growth, bench-payments, bench-deliveries"
	@echo "              bench-gateway and bench-analytics run one each"
	@echo "make stop   - stop the embedded PostgreSQL if it is still running"

$(VENV)/.base: requirements/base.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/base.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.txt
	$(PY) -m pip install -q -r requirements/dev.txt
	@touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

run: install
	$(PY) -m scripts.run

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test
	DJANGO_SETTINGS_MODULE=config.settings.sandbox $(PY) manage.py makemigrations sandbox --check --dry-run

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Each benchmark keeps going when another misses its target (a miss is a figure, not an error).
bench: install-dev
	-$(PY) -m loadtests.run --only portal --name portal $(BENCH_PORTAL_ARGS)
	-$(PY) -m loadtests.run --only search,selector --name search $(BENCH_SEARCH_ARGS)
	-$(PY) -m loadtests.growth
	-$(PY) -m loadtests.payments
	-$(PY) -m loadtests.deliveries
	-$(PY) -m loadtests.gateway
	-$(PY) -m loadtests.content
	$(PY) -m loadtests.summary

BENCH_PORTAL_ARGS ?= --servers granian-2x8,granian-2x1,gthread-2x8,sync-4
BENCH_SEARCH_ARGS ?= --servers granian-2x8,granian-2x8-nocache

bench-portal: install-dev
	$(PY) -m loadtests.run --only portal --name portal $(BENCH_PORTAL_ARGS)

bench-search: install-dev
	$(PY) -m loadtests.run --only search,selector --name search $(BENCH_SEARCH_ARGS)

bench-growth: install-dev
	$(PY) -m loadtests.growth

bench-payments: install-dev
	$(PY) -m loadtests.payments

bench-deliveries: install-dev
	$(PY) -m loadtests.deliveries

bench-gateway: install-dev
	$(PY) -m loadtests.gateway

# Settlement of a month and reconciliation of a day's bill; the docs figures are at 1 M:
# make bench-settlement BENCH_SETTLEMENT_ARGS="--lines 1000000" BENCH_RECON_ARGS="--rows 1000000"
bench-settlement: install-dev
	$(PY) -m loadtests.settlement $(BENCH_SETTLEMENT_ARGS)
	$(PY) -m loadtests.reconciliation $(BENCH_RECON_ARGS)
# Risk decisions per second and what they add to checkout and phone-bill (docs/risk.md).
bench-risk: install-dev
	$(PY) -m loadtests.risk
# Content billing: in-app charges/s (signed create + confirm) and renewals/s by a real worker.
bench-content: install-dev
	$(PY) -m loadtests.content
# Marketing: 10,000 buyers racing for 100 flash-sale units (docs/marketing.md).
bench-flash: install-dev
	$(PY) -m loadtests.flash

# Marketing: checkout with 3 campaigns and a coupon against none (docs/performance.md).
bench-checkout-marketing: install-dev
	$(PY) -m loadtests.checkout_marketing
# A day's rollup (100,000 orders by default; BENCH_ANALYTICS_ARGS="--orders 1000000" for the
# figure in docs/performance.md), the chart pages over a year, the product list on 1 M products.
BENCH_ANALYTICS_ARGS ?=
bench-analytics: install-dev
	$(PY) -m loadtests.analytics $(BENCH_ANALYTICS_ARGS)

# Citus (issue #20, docs/citus-plan.md): the extension is built from ../shared/citus (no package
# is reachable), a coordinator and two workers run on loopback under var/citus, and the cluster
# tests run against its `citus` database. Needs root (build.sh installs Debian packages and
# cluster.sh runs the nodes as the postgres user).
CITUS_DIR ?= ../shared/citus
CLUSTER_DIR ?= $(CURDIR)/var/citus
CLUSTER_WORKERS ?= 2
CLUSTER_PORT ?= 9700
CLUSTER_URL := postgresql://postgres@127.0.0.1:$(CLUSTER_PORT)/citus

citus:
	@test -f $(CITUS_DIR)/build.sh || { echo "no Citus source in $(CITUS_DIR) (set CITUS_DIR)" >&2; exit 2; }
	bash $(CITUS_DIR)/build.sh

cluster-start: citus
	bash $(CITUS_DIR)/cluster.sh start $(CLUSTER_DIR) $(CLUSTER_WORKERS) $(CLUSTER_PORT)

cluster-stop:
	@test ! -d $(CLUSTER_DIR) || bash $(CITUS_DIR)/cluster.sh stop $(CLUSTER_DIR)

# Migrates and distributes the cluster's database (conftest.py: CARRIERHUB_CLUSTER), runs the
# cluster's own tests and the money-flow tests on it, stops the cluster.
CLUSTER_TESTS ?= tests/cluster \
  apps/orders/tests/test_orders.py apps/orders/tests/test_payment_races.py \
  apps/orders/tests/test_cart_races.py apps/payments/tests/test_provider_alipay.py \
  apps/payments/tests/test_provider_wechat.py apps/payments/tests/test_provider_unionpay.py \
  apps/payments/tests/test_carrier_billing.py apps/payments/tests/test_refund_approval.py \
  apps/payments/tests/test_ledger_property.py apps/ledger/tests/test_concurrency.py \
  apps/ledger/tests/test_properties.py apps/fulfilment/tests/test_deliveries.py
# A new cluster every time (its own directory and ports), so no run sees another's rows.
CLUSTER_TEST_DIR ?= $(CURDIR)/var/citus-test
CLUSTER_TEST_PORT ?= 9710
test-cluster: install-dev citus
	-@test ! -d $(CLUSTER_TEST_DIR) || bash $(CITUS_DIR)/cluster.sh stop $(CLUSTER_TEST_DIR)
	rm -rf $(CLUSTER_TEST_DIR)
	bash $(CITUS_DIR)/cluster.sh start $(CLUSTER_TEST_DIR) $(CLUSTER_WORKERS) $(CLUSTER_TEST_PORT)
	CARRIERHUB_CLUSTER=1 DATABASE_URL=postgresql://postgres@127.0.0.1:$(CLUSTER_TEST_PORT)/citus \
	  $(PY) -m pytest -n 0 $(CLUSTER_TESTS); status=$$?; \
	  bash $(CITUS_DIR)/cluster.sh stop $(CLUSTER_TEST_DIR); rm -rf $(CLUSTER_TEST_DIR); exit $$status

# The whole platform on the cluster (make run with DATABASE_URL on the coordinator).
run-cluster: install cluster-start
	DATABASE_URL=$(CLUSTER_URL) $(PY) manage.py migrate --noinput
	DATABASE_URL=$(CLUSTER_URL) $(PY) manage.py distribute
	DATABASE_URL=$(CLUSTER_URL) $(PY) -m scripts.run

worker: install
	$(BIN)/celery -A config worker -l info --pool $${WORKER_POOL:-threads} --concurrency $${WORKER_CONCURRENCY:-32}

beat: install
	$(BIN)/celery -A config beat -l info

messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

stop:
	@$(PY) -c "from config.embedded import stop_embedded; print('stopped' if stop_embedded() else 'not running')"

clean:
	rm -rf $(VENV) var/static
