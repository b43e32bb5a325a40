#!/usr/bin/env bash
# Page weights of the dashboard on the wire, compressed: a first load (empty
# cache: sign-in page, then the home view) and a reload, for a signed-in
# operator and a donor, as headless Chromium's resource timing counts them
# (transferSize: compressed bodies with headers). The budget is at most
# 150 KB for a first load and 10 KB of files for a reload; the run fails
# above it. Needs chromium and chromium-driver (Debian packages).
#
#   bash bench/pageweight.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
cargo test -q -p reliefhub-api --test browser page_weight_of_a_first_load_and_a_reload -- --nocapture 2>&1 \
    | grep -E '^(operator|donor):|test result|panicked|over'
