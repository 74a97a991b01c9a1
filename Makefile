# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test check bench setup e2e-setup

setup:
	bash scripts/bootstrap.sh

e2e-setup:
	bash scripts/install-e2e.sh

## Build the demo council, start the bot and the Agents Playground, print the URL to open.
demo: setup
	bash scripts/install-e2e.sh --no-browser
	bash scripts/demo.sh

## Install everything and run every test (PostgreSQL tests need QALOOP_TEST_POSTGRES_URL).
test: setup e2e-setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/pytest

## Lint, types, the architecture's contracts and a dependency vulnerability audit.
check: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python scripts/audit_deps.py

## Performance budgets (DESIGN §11); prints figures and ratios.
bench: setup
	@status=0; for b in bench_my_actions bench_fanout bench_digest bench_export bench_themes bench_trends bench_evidence bench_startup; do \
		echo "== $$b"; .venv/bin/python -m tests.bench.$$b || status=1; \
	done; exit $$status
