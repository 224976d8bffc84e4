"""The entrypoint wrapper: secret files into the plain variables a service's code reads, then exec.

Some of the platform's code reads a credential only from a plain variable (`POSTGRES_PASSWORD`,
`REDIS_URL`, ...). Putting the value into the container's environment would show it to anyone
who can inspect the container, so the program delivers the secret as a file and this wrapper,
the container's entrypoint, exports the file into the variable inside the process at start (the
pattern of the official postgres image's `*_FILE` handling). It then `exec`s the service's own
command, so the service is PID 1's child as before, receives signals and returns its exit code.

The script is POSIX sh (it runs under dash and bash alike), names only variables and file
paths, never a value, and is the same for every target: Docker uploads it, Kubernetes would
mount it from a ConfigMap.
"""

from __future__ import annotations

from catalog.services import Service, secret_path
from catalog.settings import Settings

WRAPPER_PATH = "/run/devtools/export-secrets.sh"
# sysexits' EX_CONFIG: the container's configuration is wrong, not the service.
MISSING_FILE_EXIT = 78

_PROLOGUE = f"""#!/bin/sh
# Exports secret files into the variables the service reads, then runs the service in its place.
set -eu
export_secret() {{
    if [ ! -f "$2" ] || [ ! -r "$2" ]; then
        echo "export-secrets: $1 cannot be set: secret file $2 is missing or unreadable" >&2
        exit {MISSING_FILE_EXIT}
    fi
    # The trailing x keeps trailing newlines that command substitution would strip.
    value="$(cat "$2"; printf x)"
    export "$1=${{value%x}}"
    unset value
}}
"""


def wrapper_entrypoint() -> list[str]:
    """The entrypoint of a wrapped container; its command stays the service's own."""
    return ["/bin/sh", WRAPPER_PATH]


def render_secrets_wrapper(service: Service, settings: Settings) -> str:
    lines = [_PROLOGUE]
    for variable, secret in service.exported_secrets:
        lines.append(f"export_secret {variable} {secret_path(secret)}\n")
    lines.append('if [ "$#" -eq 0 ]; then\n    echo "export-secrets: no command to run" >&2\n    exit 64\nfi\n')
    lines.append('exec "$@"\n')
    return "".join(lines)
