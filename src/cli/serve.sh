#!/bin/sh
# `npm start` runs this: the server (dist/src/cli/serve.js) with mimalloc as its malloc when it is installed.
# The allocator must be preloaded at exec, before any library loads, so it cannot be chosen from inside Node;
# src/runtime/allocator.ts decides which library (TXRANK_ALLOCATOR=mimalloc|system|/path), its settings, and
# why mimalloc. `exec` replaces this shell, so signals (SIGTERM to drain) reach the server directly and its
# exit code is the launcher's.
set -eu
cli="$(CDPATH= cd -- "$(dirname -- "$0")/../../dist/src/cli" && pwd)"
plan="$(node "$cli/allocator.js")"
eval "$plan"
exec node "$cli/serve.js" "$@"
