#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need, and only what is missing: Debian's nats-server,
# etcd-server, etcd-client and prometheus (for promtool, which checks deploy/prometheus/ in the
# tests) as root with apt-get, and the npm dependencies (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }

missing=()
have nats-server || missing+=(nats-server)
have etcd || missing+=(etcd-server)
have etcdctl || missing+=(etcd-client)
# promtool (Debian's prometheus package): the deploy tests check the Prometheus configuration with it.
have promtool || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]} with apt-get" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Only promtool was wanted: on a machine with systemd the package also starts a Prometheus server.
    if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
      systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  else
    echo "bootstrap: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]}) and run again" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "bootstrap: missing Node.js (>= 20.19); install it and run again" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
