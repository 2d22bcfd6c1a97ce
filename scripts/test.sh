#!/usr/bin/env bash
# Runs the Jest suites and ends with one line "N passed, N failed" summing every run.
# Kernel suites (kernels-tests/) and tests/*.device.test.ts run once per adapter in
# CAUSALMIX_TEST_ADAPTERS (default "gl swiftshader cpu"): gl = OpenGL ES compatibility adapter
# (Mesa llvmpipe), swiftshader = Vulkan core adapter from Debian's chromium, cpu = the float64
# reference backend. The other suites in tests/ (data, model training, analysis, CLI, browser) run
# once, on the first adapter. Extra arguments go to Jest (e.g. a test file), run on every adapter.
set -uo pipefail
cd "$(dirname "$0")/.."

ICD=/usr/lib/chromium/vk_swiftshader_icd.json
export EGL_PLATFORM=surfaceless XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}"
# always re-embed shaders/*.wgsl (cheap: the file is rewritten only when a shader changed); Jest's
# globalSetup does it again for direct `npx jest` runs
node scripts/embed-shaders.mjs || exit 1

passed=0
failed=0
status=0
out=$(mktemp -d)
adapters=(${CAUSALMIX_TEST_ADAPTERS:-gl swiftshader cpu})
# run LABEL ADAPTER JEST-ARGS...: one Jest run, its counts added to the totals
run() {
  local label=$1 adapter=$2
  shift 2
  echo "=== $label"
  CAUSALMIX_ADAPTER=$adapter VK_ICD_FILENAMES=$ICD \
    npx jest --runInBand --json --outputFile="$out/$label.json" "$@" 2>&1 | grep -v 'Unknown user config'
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  if [ -f "$out/$label.json" ]; then
    read -r p f < <(node -e "const r=require('$out/$label.json');console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)")
    echo "=== $label: $p passed, $f failed"
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "=== $label: no results (Jest crashed)"
    failed=$((failed + 1)); status=1
  fi
}
for adapter in "${adapters[@]}"; do
  if [ "$adapter" = swiftshader ] && [ ! -f "$ICD" ]; then
    if [ "${CI:-}" = true ]; then
      echo "swiftshader: $ICD is missing (apt-get install chromium libvulkan1)"
      failed=$((failed + 1)); status=1; continue
    fi
    echo "=== adapter swiftshader SKIPPED: $ICD not found (apt-get install chromium libvulkan1)"
    continue
  fi
  if [ $# -gt 0 ]; then
    run "adapter-$adapter" "$adapter" "$@"
  else
    run "adapter-$adapter" "$adapter" --testPathPatterns 'kernels-tests/' 'tests/.*\.device\.test\.ts$'
  fi
done
if [ $# -eq 0 ] && [ ${#adapters[@]} -gt 0 ]; then
  run "host-and-model-suites-on-${adapters[0]}" "${adapters[0]}" --testPathPatterns 'tests/' \
    --testPathIgnorePatterns 'kernels-tests/' '\.device\.test\.ts$'
fi
rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
