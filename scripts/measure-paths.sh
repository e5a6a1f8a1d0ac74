#!/bin/sh
# Builds native/probes/paths.c and runs it in a private user and network
# namespace (unshare -rn): lo up with the documentation addresses, nothing
# else (192.0.2.9 routed to lo but not local: a connect to it stays in
# SYN_SENT); the sysctls it writes are that namespace's. Bounded to 60 s.
# Prints the measured table as Markdown rows; with --write, replaces the
# rows of reference/measured-paths.md between its markers.
#   scripts/measure-paths.sh [--write] [probe-group]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
write=0
if [ "${1:-}" = "--write" ]; then write=1; shift; fi
group=${1:-}
bin=$(mktemp -d)/paths
trap 'rm -rf "$(dirname "$bin")"' EXIT
${CC:-cc} -O1 -Wall -o "$bin" "$root/native/probes/paths.c"
kernel=$(uname -r)
rows=$(timeout -s KILL 60 unshare -rn sh -c '
  ip link set lo up &&
  ip addr add 192.0.2.1/32 dev lo && ip addr add 192.0.2.2/32 dev lo &&
  ip -6 addr add 2001:db8::1/128 dev lo nodad && ip -6 addr add 2001:db8::2/128 dev lo nodad &&
  ip route add 192.0.2.9/32 dev lo &&
  exec "$0" "$1"' "$bin" "$group" |
  awk -F '\t' -v k="$kernel" '{ gsub(/\|/, "\\|"); printf "| `%s` | %s | %s | %s |\n", $1, $2, $3, k }')
if [ "$write" = 1 ]; then
  table="$root/reference/measured-paths.md"
  tmp="$table.tmp"
  awk -v rows="$rows" '
    /<!-- rows:begin -->/ { print; print rows; skip = 1; next }
    /<!-- rows:end -->/ { skip = 0 }
    !skip { print }' "$table" > "$tmp" && mv "$tmp" "$table"
else
  printf '%s\n' "$rows"
fi
