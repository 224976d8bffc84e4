#!/bin/sh
# The migrate job: applies the platform's SQL migrations with psql, then exits.
# The job runs it in the postgres image; the tests run this same file against a real PostgreSQL.
#   PGHOST, PGPORT, PGUSER, PGDATABASE   where to connect (libpq's own variables)
#   POSTGRES_PASSWORD_FILE               file holding the password (a secret under /run/secrets)
#   MIGRATIONS_FILE                      the psql script rendered from config/migrations/
# The password goes to psql through libpq's PGPASSWORD in this process only: it never
# appears in the container's declared environment or on a command line.
set -eu
: "${PGHOST:?set PGHOST}" "${PGUSER:?set PGUSER}" "${PGDATABASE:?set PGDATABASE}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE}"
MIGRATIONS_FILE="${MIGRATIONS_FILE:-/migrations/migrations.sql}"
PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
export PGPASSWORD
PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"
export PGCONNECT_TIMEOUT

# Postgres is healthy before this job starts (depends_on), but a restart can race: retry briefly.
tries=0
until psql -X -q -c 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${MIGRATE_CONNECT_TRIES:-30}" ]; then
        echo "migrate: cannot connect to $PGHOST as $PGUSER" >&2
        psql -X -q -c 'SELECT 1' >/dev/null  # show libpq's own reason
        exit 1
    fi
    sleep 1
done

exec psql -X -q -v ON_ERROR_STOP=1 -f "$MIGRATIONS_FILE"
