#!/usr/bin/env bash
# Ledger append benchmark on SQLite and on PostgreSQL, each side by side with
# a plain bulk insert of the same rows. Starts a throwaway PostgreSQL server
# (default durability settings) from the system's binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p reliefhub
bin=${CARGO_TARGET_DIR:-target}/release/reliefhub
batches=${BATCHES:-200}
runs=${RUNS:-5}

echo "== SQLite"
"$bin" bench ledger --batches "$batches" --runs "$runs" --quiet

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ]; then
    echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2
    exit 1
fi
dir=$(mktemp -d)
as=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; as=(runuser -u postgres --); fi
"${as[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
trap '"${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null; rm -rf "$dir"' EXIT
"${as[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres bench
echo "== PostgreSQL"
"$bin" --db "postgres://postgres@127.0.0.1:$port/bench" bench ledger --batches "$batches" --runs "$runs" --quiet
