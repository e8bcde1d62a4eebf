#!/bin/sh
# `npm start` runs this: the server (dist/src/cli/serve.js) with mimalloc as its malloc when it is installed.
# The allocator must be preloaded at exec, before any library loads, so it cannot be chosen from inside Node;
# src/runtime/allocator.ts decides which library (TXRANK_ALLOCATOR=mimalloc|system|/path) and why mimalloc.
# `exec` replaces this shell, so signals (SIGTERM to drain) reach the server directly and its exit code is ours.
set -eu
cli="$(CDPATH= cd -- "$(dirname -- "$0")/../../dist/src/cli" && pwd)"
if [ -z "${LD_PRELOAD:-}" ]; then
  lib="$(node "$cli/allocator.js")"
  if [ -n "$lib" ]; then
    LD_PRELOAD="$lib"
    export LD_PRELOAD
  fi
fi
exec node "$cli/serve.js" "$@"
