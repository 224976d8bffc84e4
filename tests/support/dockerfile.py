"""An image's file layout without a Docker engine: a Dockerfile's COPY instructions applied to a folder.

Enough of the Dockerfile reference for the images this project builds: line continuations,
comments, COPY in shell and JSON form (with --chown/--chmod flags, which change no path),
WORKDIR, and ENTRYPOINT/CMD in exec (JSON) form. Anything it cannot reproduce (COPY --from, ADD
of a URL, shell-form CMD) raises, so a test never silently checks less than the image holds.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass
class Image:
    copies: list[tuple[list[str], str, str]] = field(default_factory=list)  # (sources, destination, workdir)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    @property
    def argv(self) -> list[str]:
        """What the container runs: ENTRYPOINT followed by CMD, as Docker combines them."""
        return [*self.entrypoint, *self.cmd]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: comments dropped, `\\` continuations joined."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    out = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def _exec_form(instruction: str, arguments: str) -> list[str]:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        raise ValueError(f"{instruction} {arguments!r} is in shell form; only the exec (JSON) form is reproduced") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{instruction} {arguments!r} is not a JSON list of strings")
    return value


def parse(text: str) -> Image:
    image, workdir = Image(), "/"
    for instruction, arguments in instructions(text):
        if instruction == "WORKDIR":
            workdir = str(PurePosixPath(workdir) / arguments)
        elif instruction in ("COPY", "ADD"):
            words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
            flags = [w for w in words if w.startswith("--")]
            if any(f.startswith("--from") for f in flags) or (instruction == "ADD" and "://" in arguments):
                raise ValueError(f"{instruction} {arguments!r} copies from outside the build context")
            paths = [w for w in words if not w.startswith("--")]
            image.copies.append((paths[:-1], paths[-1], workdir))
        elif instruction == "ENTRYPOINT":
            image.entrypoint = _exec_form(instruction, arguments)
            image.cmd = []  # Docker resets CMD when ENTRYPOINT is set after it
        elif instruction == "CMD":
            image.cmd = _exec_form(instruction, arguments)
    return image


def assemble(image: Image, context: Path, root: Path) -> None:
    """Copy what the COPY instructions take from `context` to where they put it under `root`."""
    for sources, destination, workdir in image.copies:
        target = PurePosixPath(workdir) / destination
        into_dir = destination.endswith("/") or len(sources) > 1
        for source in sources:
            matches = sorted(context.glob(source))
            if not matches:
                raise FileNotFoundError(f"COPY {source}: not in the build context {context}")
            for found in matches:
                place = root / str(target).lstrip("/")
                if found.is_dir():
                    shutil.copytree(found, place, dirs_exist_ok=True)  # a directory's contents, as Docker copies
                    continue
                if into_dir:
                    place = place / found.name
                place.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, place)
