#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the test suite and prints its DATABASE_URL on stdout (notes go to
# stderr). Installs Debian's `postgresql` with apt when psql / pg_ctlcluster are missing (as root), starts
# the newest cluster (listening on localhost only, Debian's default), and creates the role and database
# `smart_segments` / `smart_segments_test` with a password. Safe to run again: it only adds what is missing.
#
#   export TEST_DATABASE_URL="$(bash scripts/ensure-postgres.sh)"
#
# Overrides: PG_ROLE, PG_DATABASE, PG_PASSWORD (a local test password; never a production secret).
# Exit status 1, with the reason on stderr, when PostgreSQL cannot be installed or started.
set -euo pipefail

ROLE="${PG_ROLE:-smart_segments}"
DATABASE="${PG_DATABASE:-smart_segments_test}"
PASSWORD="${PG_PASSWORD:-smart_segments_local_test}"

note() { echo "ensure-postgres: $*" >&2; }
fail() { note "$*"; exit 1; }

for name in "$ROLE" "$DATABASE"; do
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || fail "\"$name\" is not a plain lower-case identifier"
done
[[ "$PASSWORD" =~ ^[A-Za-z0-9_.~-]+$ ]] || fail "PG_PASSWORD may hold only letters, digits and _ . ~ - (it goes into a URL)"

# Runs a command as the postgres superuser (root: runuser; the postgres user itself; or password-less sudo).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  elif [ "$(id -un)" = postgres ]; then
    "$@"
  elif sudo -n true 2>/dev/null; then
    sudo -n -u postgres -- "$@"
  else
    fail "need root, the postgres user or password-less sudo to set up the database"
  fi
}

if ! command -v psql >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  note "installing Debian's postgresql with apt"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >&2; then
    apt-get update >&2 || fail "apt-get update failed"
    apt-get install -y --no-install-recommends postgresql >&2 || fail "apt-get install postgresql failed"
  fi
fi

# The newest installed cluster; create one for the newest server version when there is none.
cluster="$(pg_lsclusters --no-header 2>/dev/null | sort -k1,1V | tail -n 1 || true)"
if [ -z "$cluster" ]; then
  version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$version" ] || fail "no PostgreSQL server binaries under /usr/lib/postgresql"
  note "creating cluster $version/main"
  pg_createcluster "$version" main >&2 || fail "pg_createcluster $version main failed"
  cluster="$(pg_lsclusters --no-header | sort -k1,1V | tail -n 1)"
fi
read -r version name port status _ <<<"$cluster"

if [ "$status" != online ]; then
  note "starting cluster $version/$name on port $port"
  if [ "$(id -u)" = 0 ] || [ "$(id -un)" = postgres ]; then
    pg_ctlcluster "$version" "$name" start >&2 || fail "pg_ctlcluster $version $name start failed (see /var/log/postgresql/)"
  else
    sudo -n pg_ctlcluster "$version" "$name" start >&2 || fail "cannot start cluster $version/$name without root"
  fi
fi

# Wait until it accepts connections (start returns once the postmaster is up, but be patient on slow disks).
for _ in $(seq 1 30); do
  if as_postgres psql -p "$port" -Atqc 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 1
done
as_postgres psql -p "$port" -Atqc 'SELECT 1' >/dev/null 2>&1 || fail "cluster $version/$name does not accept connections"

psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -Atq "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  note "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
else
  psql_admin -c "ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
  note "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2
fi

url="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
# Prove the URL works over TCP with the password, as the tests will connect.
PGPASSWORD="$PASSWORD" psql -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DATABASE" -Atqc 'SELECT 1' >/dev/null 2>&1 ||
  fail "cannot log in as $ROLE on 127.0.0.1:$port (check pg_hba.conf allows password logins from 127.0.0.1)"
note "PostgreSQL $version ready on 127.0.0.1:$port, database $DATABASE"
echo "$url"
