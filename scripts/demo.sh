#!/usr/bin/env bash
# Builds the demo council, starts the bot on 127.0.0.1:3978 and the Agents Playground beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
export QALOOP_DATABASE_URL=${QALOOP_DATABASE_URL:-sqlite+aiosqlite:///qaloop-demo.db}
PORT=${PORT:-3978}

.venv/bin/qaloop demo --no-serve
.venv/bin/qaloop serve --port "$PORT" &
bot=$!
trap 'kill $bot 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

if ! command -v npx >/dev/null 2>&1 || [ ! -d tests/e2e/node_modules/@microsoft/m365agentsplayground ]; then
  echo
  echo "The bot is running at http://127.0.0.1:$PORT/api/messages (Ctrl-C stops it)."
  echo "Node.js is missing, so the Agents Playground can't start here. With Node 20+:"
  echo "  npx @microsoft/m365agentsplayground -e http://127.0.0.1:$PORT/api/messages -c msteams"
  wait $bot
  exit 0
fi

config=$(mktemp -d)/playground.yml
.venv/bin/python -c "import sys; from tests.e2e.playground_config import write_config; write_config(sys.argv[1], current_user='alex')" "$config"
export M365_AGENTS_PLAYGROUND_CONFIG_PATH=$config
export TEAMSAPPTESTER_BROWSER=none
echo
echo "Open http://127.0.0.1:56150 in your browser. You are Alex Wilber, a practitioner who also audits."
echo "Try: help, my actions, my audits. On a working day from 09:00 your first message also"
echo "brings today's card. Ctrl-C stops the bot and the playground."
echo
# The playground exits when its stdin closes, so keep it open.
tail -f /dev/null | tests/e2e/node_modules/.bin/agentsplayground \
  -e "http://127.0.0.1:$PORT/api/messages" -c msteams --disable-telemetry
