"""Redis durability as the server will actually run: config file first, then command-line overrides.

`redis-server [/path/redis.conf] [--directive value ...]` reads the file, then applies each `--directive`
in order, later settings winning, exactly as if they were appended to the file. A `save` line adds a
snapshot rule and `save ""` clears them. Settings the rules cannot see (a file that is not uploaded, an
unknown upload) stay unknown, so a rule never guesses.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .docker import Upload, data_mounts, run_lines, uploads
from .images import image_repository
from .values import UNKNOWN, as_list, is_unknown

# The official image's working directory: where Redis writes when no `dir` is set.
DEFAULT_DIR = "/data"
DURABLE_FSYNC = ("everysec", "always")


@dataclass
class RedisConfig:
    settings: dict[str, Any] = field(default_factory=dict)   # directive -> last value (or UNKNOWN)
    save: Any = None                                          # list of rules, UNKNOWN, or None (never set)
    unreadable: list[str] = field(default_factory=list)      # config files named but not uploaded
    users: list[list[str]] = field(default_factory=list)     # `user <name> <rules...>` directives, in order


def is_redis(props: Mapping[str, Any]) -> bool:
    """A container that runs a Redis server: named on its command line, or a Redis image left to its
    default command. A Redis image running something else (redis-cli in a backup job) is not one."""
    lines = run_lines(props)
    if lines:
        return any(_server_args(line) is not None for line in lines)
    image = props.get("image")
    return isinstance(image, str) and image_repository(image) in ("redis", "redis-stack-server", "valkey")


def _server_args(args: list[Any]) -> list[str] | None:
    """The arguments after `redis-server`, also inside `sh -c "... redis-server ..."`."""
    words = [a for a in args if isinstance(a, str)]
    if len(words) >= 3 and words[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and words[1] == "-c":
        try:
            words = shlex.split(words[2])
        except ValueError:
            return None
    for i, word in enumerate(words):
        if posixpath.basename(word) in ("redis-server", "valkey-server"):
            return words[i + 1:]
    return None


class _UnknownFiles(dict):
    """Uploads of which some are not known yet: a missing path reads as unknown content, not as absent."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, UNKNOWN)


def _directives(text: str) -> list[tuple[str, list[str]]]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if words:
            lines.append((words[0].lower(), words[1:]))
    return lines


def _apply(config: RedisConfig, name: str, values: list[str], files: dict[str, Any], depth: int = 0) -> None:
    if name == "include" and values and depth < 5:
        _read_file(config, values[0], files, depth + 1)
    elif name == "user":
        config.users.append([word for value in values for word in value.split()])
    elif name == "save":
        if values in ([""], []) or values == ['""']:
            config.save = []
        elif config.save is not UNKNOWN:
            words = " ".join(values).split()  # `save 900 1` in a file, `--save "900 1 300 10"` on a command line
            rules = [(words[i], words[i + 1]) for i in range(0, len(words) - 1, 2)]
            config.save = (config.save or []) + rules
    else:
        config.settings[name] = " ".join(values)


def _read_file(config: RedisConfig, path: str, files: dict[str, Any], depth: int = 0) -> None:
    content = files.get(path)
    if content is None:
        config.unreadable.append(path)
        return
    if is_unknown(content):
        # Nothing in it is known: every setting it could hold becomes unknown.
        for name in ("appendonly", "appendfsync", "dir", "requirepass", "aclfile"):
            config.settings[name] = UNKNOWN
        config.save = UNKNOWN
        return
    if not isinstance(content, str):
        config.unreadable.append(path)  # not text: nothing in it can be judged, so it counts as not readable
        return
    for name, values in _directives(content):
        _apply(config, name, values, files, depth)


def _uploaded_files(props: Mapping[str, Any]) -> dict[str, Any]:
    """Path -> content of the uploads; a path not found reads as unknown while some uploads are not known."""
    files = {u.file: u.content for u in uploads(props) if isinstance(u, Upload) and isinstance(u.file, str)}
    if is_unknown(props.get("uploads")) or any(not isinstance(u.file, str) for u in uploads(props)):
        return _UnknownFiles(files)  # a file not found may still be among the uploads not known yet
    return files


def effective_config(props: Mapping[str, Any]) -> RedisConfig:
    config = RedisConfig()
    files = _uploaded_files(props)
    args: list[str] | None = None
    for line in run_lines(props):
        args = _server_args(line)
        if args is not None:
            break
    args = args or []
    rest = args
    if args and not args[0].startswith("--"):
        _read_file(config, args[0], files)
        rest = args[1:]
    i = 0
    while i < len(rest):
        if rest[i].startswith("--"):
            name = rest[i][2:].lower()
            j = i + 1
            while j < len(rest) and not rest[j].startswith("--"):
                j += 1
            _apply(config, name, rest[i + 1:j], files)
            i = j
        else:
            i += 1
    return config


def persistence_problems(props: Mapping[str, Any]) -> list[str]:
    """What keeps this Redis from surviving a restart with its data: AOF, fsync, snapshots, volume."""
    for key in ("entrypoints", "command"):
        args = props.get(key)
        if is_unknown(args) or (isinstance(args, list) and any(is_unknown(a) for a in args)):
            return []  # which file and which overrides Redis gets is not known yet
    config = effective_config(props)
    problems = [f"config file {path} is not uploaded by the program as text, so its settings cannot be checked"
                for path in config.unreadable]
    settings = config.settings
    appendonly = settings.get("appendonly", "no")
    if not is_unknown(appendonly) and str(appendonly).lower() != "yes":
        problems.append(f"AOF is off (appendonly {appendonly})")
    fsync = settings.get("appendfsync", "everysec")
    if not is_unknown(fsync) and str(fsync).lower() not in DURABLE_FSYNC:
        problems.append(f"appendfsync {fsync} may lose more than a second of writes")
    if config.save is not UNKNOWN and not config.save:
        problems.append("no RDB snapshot rules (save ...)")
    data_dir = settings.get("dir", DEFAULT_DIR)
    mounts_known = not any(is_unknown(props.get(key)) for key in ("volumes", "mounts")) and not any(
        is_unknown(entry) or (isinstance(entry, dict) and any(is_unknown(v) for v in entry.values()))
        for key in ("volumes", "mounts") for entry in as_list(props.get(key)))
    if not is_unknown(data_dir) and mounts_known:
        data_dir = posixpath.join(DEFAULT_DIR, str(data_dir))  # a relative dir is relative to the working directory
        mounts = data_mounts(props)
        if not any(isinstance(target, str) and _under(str(data_dir), target) for _, target in mounts):
            problems.append(f"data directory {data_dir} is not on a persistent volume")
    return problems


def _under(path: str, mount_point: str) -> bool:
    path, mount_point = posixpath.normpath(path), posixpath.normpath(mount_point)
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


@dataclass
class _User:
    on: bool = False
    nopass: bool = False
    passwords: int = 0


def _acl_users(rules: list[list[str]], requirepass: Any) -> dict[str, _User]:
    """Each user's state after its ACL rules, as redis-server builds it. `default` starts `on nopass`
    unless requirepass gives it a password (which is what Redis does with no ACL for it)."""
    users = {"default": _User(on=True, nopass=not requirepass, passwords=1 if requirepass else 0)}
    for words in rules:
        if not words:
            continue
        user = users.setdefault(words[0], _User())
        for rule in words[1:]:
            if rule == "on":
                user.on = True
            elif rule == "off":
                user.on = False
            elif rule == "nopass":
                user.nopass, user.passwords = True, 0
            elif rule in ("resetpass", "reset"):
                user.nopass, user.passwords = False, 0
                user.on = user.on and rule != "reset"
            elif rule[:1] in (">", "#"):
                user.passwords += 1
                user.nopass = False
    return users


def _acl_file_rules(path: str, files: dict[str, Any]) -> Any:
    """`user` lines of an uploaded ACL file; UNKNOWN when its content is not known, None when not uploaded."""
    content = files.get(path)
    if content is None or is_unknown(content):
        return content
    if not isinstance(content, str):
        return None
    return [line.split()[1:] for line in content.splitlines() if line.split()[:1] == ["user"]]


def auth_problems(props: Mapping[str, Any]) -> list[str]:
    """What lets a client in without a password: the default user left at nopass, or any user with nopass."""
    for key in ("entrypoints", "command"):
        args = props.get(key)
        if is_unknown(args) or (isinstance(args, list) and any(is_unknown(a) for a in args)):
            return []
    config = effective_config(props)
    if config.unreadable:
        return [f"config file {path} is not uploaded by the program as text, so authentication cannot be checked"
                for path in config.unreadable]
    requirepass = config.settings.get("requirepass")
    aclfile = config.settings.get("aclfile")
    if is_unknown(requirepass) or is_unknown(aclfile):
        return []
    rules = config.users
    if aclfile:
        from_file = _acl_file_rules(str(aclfile), _uploaded_files(props))
        if is_unknown(from_file):
            return []
        if from_file is None:
            return [f"aclfile {aclfile} is not uploaded as text, so who may log in cannot be checked"]
        rules = from_file  # redis-server refuses `user` lines in redis.conf beside an aclfile
    found = []
    for name, user in sorted(_acl_users(rules, str(requirepass or "").strip('"') or None).items()):
        if user.on and user.nopass:
            found.append("the default user needs no password: any client that reaches Redis is in"
                         if name == "default" else f"ACL user {name} has nopass: anyone can log in as {name}")
    return found
