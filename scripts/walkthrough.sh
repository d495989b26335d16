#!/usr/bin/env bash
# Issue #15's new-user walkthrough, end to end: pack @slotwise/sdk and @slotwise/react, scaffold a fresh Vite +
# React + TypeScript app (npm, vite@7), install the two tarballs as the READMEs say, drop in the READMEs' booking
# page (scripts/walkthrough/*.tsx), build it (tsc -b && vite build), start a real server (embedded database,
# demo data) and drive the app in Chromium: book through the hooks, and see a second client's booking remove a
# slot live, with no refetch. Needs the npm registry (create-vite, vite, react). Takes minutes; not in `pnpm test`.
#
#   scripts/walkthrough.sh                      # everything, in a fresh temporary folder
#   SLOTWISE_API=http://127.0.0.1:4000 scripts/walkthrough.sh   # against a server you started
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WALK_DIR:-$(mktemp -d /tmp/slotwise-walk.XXXXXX)}
API_PORT=${API_PORT:-4610}
APP_PORT=${APP_PORT:-4611}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "pack the SDK and the React package into $WORK/packs"
mkdir -p "$WORK/packs"
(cd "$ROOT/packages/sdk" && pnpm pack --pack-destination "$WORK/packs" >/dev/null)
(cd "$ROOT/packages/react" && pnpm pack --pack-destination "$WORK/packs" >/dev/null)
ls -l "$WORK/packs"

step "scaffold a Vite + React + TypeScript app"
rm -rf "$WORK/app"
(cd "$WORK" && npm create -y vite@7 app -- --template react-ts --no-interactive </dev/null >/dev/null)
cd "$WORK/app"

step "npm install the two packages (README: npm install @slotwise/react @slotwise/sdk react)"
npm install --no-audit --no-fund "$WORK"/packs/slotwise-sdk-*.tgz "$WORK"/packs/slotwise-react-*.tgz

step "the READMEs' booking page, then tsc -b && vite build"
rm -f src/App.tsx src/App.css
cp "$ROOT/scripts/walkthrough/main.tsx" "$ROOT/scripts/walkthrough/BookingPage.tsx" src/
npm run build

if [ -z "${SLOTWISE_API:-}" ]; then
  step "start a server on 127.0.0.1:$API_PORT (embedded database, demo data)"
  SLOTWISE_API="http://127.0.0.1:$API_PORT"
  (cd "$ROOT/packages/server" && PORT=$API_PORT HOST=127.0.0.1 DATA_DIR="$WORK/data" SEED_DEMO=true exec node --import tsx src/main.ts >"$WORK/server.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 240); do curl -fs "$SLOTWISE_API/readyz" >/dev/null && break; sleep 1; done
  curl -fs "$SLOTWISE_API/readyz" >/dev/null || { tail -20 "$WORK/server.log"; exit 1; }
fi

step "serve the built app (vite preview) on 127.0.0.1:$APP_PORT and drive it in Chromium"
node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "$APP_PORT" --strictPort >"$WORK/preview.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$APP_PORT/" >/dev/null && break; sleep 1; done
node "$ROOT/scripts/walkthrough/drive.mjs" "http://127.0.0.1:$APP_PORT" "$SLOTWISE_API"

step "done: app bundle"
ls -l dist/assets
