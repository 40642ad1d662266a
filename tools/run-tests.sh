#!/usr/bin/env bash
# make test: host unit tests, then the QEMU system tests; one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-/usr/bin/python3}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

echo "== unit tests (host)"
build/unit/run-unit-tests | tee "$log/unit"
unit_rc=${PIPESTATUS[0]}

echo "== system tests (QEMU)"
# A module per pytest, two side by side on 2 cores (MICA_TEST_JOBS=1: one
# after the other); it prints the 20 slowest tests and each module's time.
PYTHON="$PYTHON" "$PYTHON" tools/run-system-tests.py ${MICA_PYTEST_ARGS:-} | tee "$log/system"
system_rc=${PIPESTATUS[0]}

count() { # count FILE WORD: the number before WORD on the summary line
	grep -Eo "[0-9]+ $2" "$1" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0
}
passed=$(( $(count "$log/unit" passed) + $(count "$log/system" passed) ))
failed=$(( $(count "$log/unit" failed) + $(count "$log/system" failed) + $(count "$log/system" error) ))
if [ $unit_rc -ne 0 ] || [ $system_rc -ne 0 ]; then
	[ $failed -eq 0 ] && failed=1   # a crash with no count is still a failure
fi
echo
echo "make test: $passed passed, $failed failed"
[ $failed -eq 0 ]
