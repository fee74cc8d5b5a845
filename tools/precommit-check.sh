#!/usr/bin/env bash
# Run before committing: the whole `npm test`, failing loudly (exit code, not grep, decides).
set -euo pipefail
cd "$(dirname "$0")/.."
npm test > /tmp/dealstream-precommit.log 2>&1 || { grep -E "error TS|✕|●" /tmp/dealstream-precommit.log | head -40 || true; tail -5 /tmp/dealstream-precommit.log; echo "npm test FAILED"; exit 1; }
grep -E "^Tests:" /tmp/dealstream-precommit.log
