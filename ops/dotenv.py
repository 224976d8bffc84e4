"""Read a `.env` file in the platform's format: KEY=VALUE lines, comments, quotes.

Accepted: blank lines; `# comment` lines; an optional `export ` prefix; values bare
(a ` #` starts a trailing comment), 'single quoted' (literal) or "double quoted"
(with \\n, \\t, \\", \\\\ escapes). Anything else is reported with its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import Problem

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str
    line: int


def _unquote(raw: str) -> tuple[str | None, str | None]:
    """(value, error) for the text right of `=`."""
    text = raw.strip()
    if not text:
        return "", None
    quote = text[0]
    if quote in "'\"":
        out, i = [], 1
        while i < len(text):
            char = text[i]
            if char == quote:
                rest = text[i + 1:].strip()
                if rest and not rest.startswith("#"):
                    return None, f"text after the closing quote: {rest[:20]!r}"
                return "".join(out), None
            if quote == '"' and char == "\\" and i + 1 < len(text):
                out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
                continue
            out.append(char)
            i += 1
        return None, f"the {quote} quote is never closed"
    value = re.split(r"\s+#", text, maxsplit=1)[0]
    return value.strip(), None


def parse_env(text: str, file: str) -> tuple[list[EnvEntry], list[Problem]]:
    entries: list[EnvEntry] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        key, sep, rest = stripped.partition("=")
        key = key.strip()
        where = f"line {number}"
        if not sep or not KEY.match(key):
            problems.append(Problem(file, where, "is not a KEY=VALUE line", "write it as NAME=value, or start it with # to comment it out"))
            continue
        value, error = _unquote(rest)
        if error:
            problems.append(Problem(file, f"{key} ({where})", error, "close the quote, or remove the extra text"))
            continue
        if key in seen:
            problems.append(Problem(file, f"{key} ({where})", f"is set twice (first on line {seen[key]})", "keep one of them"))
            continue
        seen[key] = number
        entries.append(EnvEntry(key, value, number))
    return entries, problems


def read_env_file(path: Path, label: str | None = None) -> tuple[list[EnvEntry], list[Problem]]:
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [Problem(label, "(file)", "file not found", "pass the path of the .env file")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(label, "(file)", f"cannot be read: {exc}", "check the file's permissions and encoding (UTF-8)")]
    return parse_env(text, label)
