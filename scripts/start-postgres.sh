#!/usr/bin/env bash
# Installs (if needed) and starts Debian's PostgreSQL cluster on 127.0.0.1:5432, with password
# auth for the postgres user, and prints the DATABASE_URL to use. Idempotent.
set -euo pipefail

# Only the URL goes to stdout: the tools below print notices there ("Removed stale pid file."),
# and a caller reads stdout as the URL.
exec 3>&1 1>&2

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(pg_lsclusters --no-header | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $2}')
if [ -z "${version}" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  cluster=main
  pg_createcluster "${version}" "${cluster}" >/dev/null
fi

if ! pg_lsclusters --no-header | awk -v c="${cluster}" '$2 == c {print $4}' | grep -q online; then
  pg_ctlcluster "${version}" "${cluster}" start 3>&-  # the server must not hold the URL pipe open
fi

for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 1
done
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
echo "postgres://postgres:postgres@127.0.0.1:5432/postgres" >&3
