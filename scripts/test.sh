#!/usr/bin/env bash
# Runs the Jest suites once per adapter and ends with one line "N passed, N failed" summing them.
# Adapters: CAUSALMIX_TEST_ADAPTERS (default "gl swiftshader cpu"): gl = OpenGL ES compatibility
# adapter (Mesa llvmpipe), swiftshader = Vulkan core adapter from Debian's chromium, cpu = the
# float64 reference backend. Extra arguments go to Jest (e.g. a test file).
set -uo pipefail
cd "$(dirname "$0")/.."

ICD=/usr/lib/chromium/vk_swiftshader_icd.json
export EGL_PLATFORM=surfaceless XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}"
[ -f src/generated/shaders.ts ] || node scripts/embed-shaders.mjs

passed=0
failed=0
status=0
out=$(mktemp -d)
for adapter in ${CAUSALMIX_TEST_ADAPTERS:-gl swiftshader cpu}; do
  if [ "$adapter" = swiftshader ] && [ ! -f "$ICD" ]; then
    if [ "${CI:-}" = true ]; then
      echo "swiftshader: $ICD is missing (apt-get install chromium libvulkan1)"
      failed=$((failed + 1)); status=1; continue
    fi
    echo "=== adapter swiftshader SKIPPED: $ICD not found (apt-get install chromium libvulkan1)"
    continue
  fi
  echo "=== adapter $adapter"
  CAUSALMIX_ADAPTER=$adapter VK_ICD_FILENAMES=$ICD \
    npx jest --runInBand --json --outputFile="$out/$adapter.json" "$@" 2>&1 | grep -v 'Unknown user config'
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  if [ -f "$out/$adapter.json" ]; then
    read -r p f < <(node -e "const r=require('$out/$adapter.json');console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)")
    echo "=== adapter $adapter: $p passed, $f failed"
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "=== adapter $adapter: no results (Jest crashed)"
    failed=$((failed + 1)); status=1
  fi
done
rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
