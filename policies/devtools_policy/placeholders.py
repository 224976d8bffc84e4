"""Recognise values that are stand-ins for a real credential or setting.

One definition serves the catalog and settings validation (before anything is
declared) and the policy pack (on what was declared), so both agree on what a
placeholder is.
"""

from __future__ import annotations

import re

# Whole values that are never a real value of anything: the audit found `changeme` fallbacks.
STAND_IN_VALUES = frozenset({"changeme", "change-me", "change_me", "placeholder", "todo", "tbd", "xxx"})
# Whole values that are never a real credential, the usual defaults people forget to replace, but
# that are ordinary settings elsewhere (`QUEUE=default`, `COMPRESSION=none`, `MODE=test`).
WEAK_CREDENTIALS = frozenset({"password", "passwd", "secret", "admin", "example", "default", "none", "null", "test"})
WEAK_VALUES = STAND_IN_VALUES | WEAK_CREDENTIALS

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"change[-_ ]?me", re.I), "contains 'changeme'"),
    (re.compile(r"placeholder", re.I), "contains 'placeholder'"),
    (re.compile(r"\byour[-_ ]", re.I), "starts a 'your-...' stand-in"),
    (re.compile(r"<[^<>\s]{1,80}>"), "holds a '<...>' stand-in"),
    (re.compile(r"\bTODO\b|\bFIXME\b"), "holds a TODO marker"),
    (re.compile(r"^x{3,}$", re.I), "is a row of x's"),
)


def placeholder_reason(value: object, credential: bool = True) -> str | None:
    """Why `value` looks like a placeholder, or None when it looks real.

    `credential=False` judges the value of a setting that is no credential (an environment key
    that names none): a weak credential word such as `default` is then an ordinary value.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in (WEAK_VALUES if credential else STAND_IN_VALUES):
        return f"is the stand-in value '{text}'"
    for pattern, reason in _PATTERNS:
        if pattern.search(text):
            return reason
    return None


_SECRET_KEY = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|ACCESS_?KEY)$", re.I
)


def is_secret_looking_key(key: str) -> bool:
    """True for an environment key that names a credential (DB_PASSWORD, LINEAR_TOKEN...).

    Keys ending in _FILE point at a secret file and are not credentials themselves.
    """
    return not key.upper().endswith("_FILE") and bool(_SECRET_KEY.search(key))
