#!/usr/bin/env bash
# Packaging smoke test (a CI step): `npm pack` the built package, install the tarball in an empty
# folder as a user would, and run the installed `causalmix` there: --version, then a short demo
# (synthetic panel → fit → results), whose stderr must be empty (no Dawn start-up notes either).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/src/cli.js ] || npm run build
version=$(node -p "require('./package.json').version")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$work" | tail -1)
echo "pack-smoke: $tarball"
cd "$work"
mkdir app && cd app
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$work/$tarball" >/dev/null

got=$(npx --no-install causalmix --version)
[ "$got" = "$version" ] || { echo "pack-smoke: --version printed '$got', expected $version"; exit 1; }
npx --no-install causalmix demo --epochs 5 --hidden 8 --regions 3 --weeks 56 --channels 2 \
  --out demo >demo.log 2>demo.err || { cat demo.log demo.err; exit 1; }
if [ -s demo.err ]; then
  echo "pack-smoke: the demo wrote to stderr:"; cat demo.err; exit 1
fi
for f in data.csv model.json metrics.json dashboard.html; do
  [ -s "demo/$f" ] || { echo "pack-smoke: demo/$f is missing"; cat demo.log; exit 1; }
done
grep -m1 '^adapter: ' demo.log
echo "pack-smoke: the installed package's causalmix $got ran its demo"
