"""Read a `.env` file in the dotenv format, with python-dotenv's own parser.

The format is python-dotenv's: blank lines, `# comment` lines, an optional `export `
prefix; values bare (a ` #` starts a trailing comment), 'single quoted' (literal) or
"double quoted" (with \\n, \\t, \\", \\\\ escapes). Values are taken literally: `${VAR}`
is not expanded, so a password holding `$` reaches its hash as written.

A problem names the file, the line and the key, never the value: a `.env` holds secrets.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from catalog.errors import Problem
from catalog.formats import ENV_KEY

_UNQUOTED_COMMENT = re.compile(r"\s#")


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str
    line: int
    # An unquoted value followed by ` #...`: the dotenv format reads the rest as a comment,
    # which silently cuts a secret that happens to hold " #".
    inline_comment: bool = False


def _has_inline_comment(statement: str) -> bool:
    rest = statement.split("=", 1)[1].strip() if "=" in statement else ""
    return rest[:1] not in ("'", '"') and bool(_UNQUOTED_COMMENT.search(rest))


def parse_env(text: str, file: str) -> tuple[list[EnvEntry], list[Problem]]:
    entries: list[EnvEntry] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        number = binding.original.line
        where = f"line {number}"
        if binding.error:
            problems.append(Problem(file, where, "cannot be read as KEY=VALUE (an unclosed quote, or text after the closing one)",
                                    "write it as NAME=value or NAME='value', or start it with # to comment it out"))
            continue
        if binding.key is None:
            continue  # a blank or comment line
        key = binding.key
        if not ENV_KEY.match(key):
            problems.append(Problem(file, where, "does not start with a variable name",
                                    "write it as NAME=value: letters, digits and _, not starting with a digit"))
            continue
        if binding.value is None:
            # A line without `=` may be a value pasted alone (a secret): named by its line only.
            problems.append(Problem(file, where, "has no `=` and no value", "write it as NAME=<value>, or remove the line"))
            continue
        if key in seen:
            problems.append(Problem(file, f"{key} ({where})", f"is set twice (first on line {seen[key]})", "keep one of them"))
            continue
        seen[key] = number
        entries.append(EnvEntry(key, binding.value, number, _has_inline_comment(binding.original.string)))
    return entries, problems


def read_env_file(path: Path, label: str | None = None) -> tuple[list[EnvEntry], list[Problem]]:
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [Problem(label, "(file)", "file not found", "pass the path of the .env file")]
    except UnicodeDecodeError as exc:
        return [], [Problem(label, f"byte {exc.start}", "is not UTF-8 text", "save the file as UTF-8")]
    except OSError as exc:
        return [], [Problem(label, "(file)", f"cannot be read: {exc.strerror}", "check the file's permissions")]
    if "\x00" in text:
        return [], [Problem(label, "(file)", "holds a NUL character", "save it as plain UTF-8 text")]
    return parse_env(text, label)
