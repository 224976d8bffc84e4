"""Secret files computed from another secret, by the name a catalog `derive:` entry gives.

Each renderer maps the source secret's plain value to the file's content. They run
inside `Output.apply` on a Pulumi secret, so their result stays a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

SecretRenderer = Callable[[str], str]


def redis_acl(password: str) -> str:
    """A Redis ACL file for the `default` user.

    Only the SHA-256 of the password is written (`#<hex>`), so the file does not hold the
    password itself. `default` keeps every command: the agents use the event bus freely,
    the healthcheck needs PING, and the backup job needs SYNC (an RDB copy over the wire),
    CONFIG SET and SHUTDOWN (restore); the network `data` is internal, and this password
    is the only way in.
    """
    digest = hashlib.sha256(password.encode()).hexdigest()
    return f"user default on #{digest} ~* &* +@all\n"


ACL_RENDERER = "redis_acl"

SECRET_RENDERERS: dict[str, SecretRenderer] = {
    ACL_RENDERER: redis_acl,
}
