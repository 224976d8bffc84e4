"""The datastores in the plan, under Pulumi's mocks: migrate job, Redis ACL, Postgres config, backups."""

from __future__ import annotations

import json

import pytest

import ops.engine
from catalog.services import Catalog, cross_check
from ops.engine import fake_secret
from render.secret_renderers import redis_acl
from tests.conftest import Plan, run_plan

SECRET_SIG = "4dabf18193072939515e22adb298388d"
NEEDS_TABLES = ("agent-registry", "state-persistence")


def _plain(value):
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def _is_secret(value) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def _uploads(container) -> dict[str, object]:
    return {u["file"]: _plain(u["content"]) for u in _plain(container.inputs.get("uploads", []))}


def test_migrate_job_runs_once_to_completion_before_the_services_that_need_it(shipped_plan: Plan):
    containers = shipped_plan.containers()
    migrate = containers["migrate"]
    assert migrate.inputs["restart"] == "no"
    assert migrate.inputs["attach"] is True and migrate.inputs["mustRun"] is False
    assert "healthcheck" not in migrate.inputs or not migrate.inputs["healthcheck"]
    assert containers["postgres"].urn in migrate.dependencies
    for name in NEEDS_TABLES:
        assert migrate.urn in containers[name].dependencies, f"{name} does not wait for migrate"
    order = [r.name for r in shipped_plan.of_type("docker:index/container:Container")]
    assert all(order.index("migrate") < order.index(name) for name in NEEDS_TABLES)
    uploads = _uploads(migrate)
    assert uploads["/migrations/migrate.sh"].startswith("#!/bin/sh")
    assert "schema_migrations" in uploads["/migrations/migrations.sql"]
    assert migrate.inputs["command"] == ["sh", "/migrations/migrate.sh"]


def test_a_failing_migrate_job_stops_the_services_that_need_it(monkeypatch: pytest.MonkeyPatch):
    computed = ops.engine._computed

    def failing_job(typ, name, inputs):
        return {"exitCode": 3} if name == "migrate" else computed(typ, name, inputs)

    monkeypatch.setattr(ops.engine, "_computed", failing_job)
    with pytest.raises(Exception, match="job migrate exited with code 3"):
        run_plan()


def test_redis_gets_its_acl_as_a_secret_file_and_no_password_anywhere_else(shipped_plan: Plan):
    redis = shipped_plan.containers()["redis"]
    uploads = _uploads(redis)
    # A secret among the uploads makes Pulumi keep the whole list secret (state, logs, diffs).
    assert _is_secret(redis.inputs["uploads"]), "the ACL file is not delivered as a Pulumi secret"
    acl = uploads["/run/secrets/redis_acl"]
    password = fake_secret("secrets-redis_password", 32)  # the generated password, as the mocks make it
    assert acl == redis_acl(password)
    assert password not in acl  # only its SHA-256
    conf = uploads["/usr/local/etc/redis/redis.conf"]
    assert "aclfile /run/secrets/redis_acl" in conf and "requirepass" not in conf
    visible = json.dumps({k: redis.inputs.get(k) for k in ("envs", "command", "healthcheck", "labels")})
    assert password not in visible
    assert "REDIS_PASSWORD_FILE=/run/secrets/redis_password" in redis.inputs["envs"]
    # No container anywhere carries the password in its env or command.
    for container in shipped_plan.containers().values():
        assert password not in json.dumps([container.inputs.get("envs"), container.inputs.get("command")])


def test_postgres_runs_the_rendered_config_on_the_persistent_volume(shipped_plan: Plan):
    postgres = shipped_plan.containers()["postgres"]
    assert postgres.inputs["command"] == ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    conf = _uploads(postgres)["/etc/postgresql/postgresql.conf"]
    assert "shared_buffers = 384MB" in conf
    volumes = {v["containerPath"]: v["hostPath"] for v in postgres.inputs["volumes"]}
    assert volumes["/var/lib/postgresql/data"] == "/mnt/devtools-data/postgres-data"
    assert "POSTGRES_PASSWORD_FILE=/run/secrets/db_password" in postgres.inputs["envs"]


def test_backups_bucket_and_job(shipped_plan: Plan):
    bucket = shipped_plan.one("digitalocean:index/spacesBucket:SpacesBucket")
    assert bucket.inputs["name"] == "devtools-prod-backups" and bucket.inputs["acl"] == "private"
    assert bucket.inputs["lifecycleRules"][0]["expiration"]["days"] == 28  # twice the 14-day retention
    backup = shipped_plan.containers()["backup"]
    uploads = _uploads(backup)
    settings = json.loads(uploads["/etc/devtools/backup.json"])
    assert settings["bucket"] == bucket.inputs["name"]
    assert settings["endpoint"] == "https://nyc3.digitaloceanspaces.com"
    # The program is the image's own (tests/test_backup_image.py): the container receives only its settings and secrets.
    assert not [path for path in uploads if path.endswith(".py")]
    assert backup.inputs["command"][:2] == ["python3", "/opt/backup/datastore_backup.py"]
    assert _is_secret(backup.inputs["uploads"])
    for name, env in (("spaces_access_key_id", "SPACES_ACCESS_KEY_ID_FILE"), ("spaces_secret_access_key", "SPACES_SECRET_ACCESS_KEY_FILE"),
                      ("do_snapshot_token", "DO_SNAPSHOT_TOKEN_FILE"), ("db_password", "POSTGRES_PASSWORD_FILE"),
                      ("redis_password", "REDIS_PASSWORD_FILE")):
        assert uploads[f"/run/secrets/{name}"], name
        assert f"{env}=/run/secrets/{name}" in backup.inputs["envs"]  # the names the backup program reads
    spaces_provider = shipped_plan.one("pulumi:providers:digitalocean")
    assert _is_secret(spaces_provider.inputs["spacesSecretKey"]) and _is_secret(spaces_provider.inputs["spacesAccessId"])
    assert bucket.provider.startswith(spaces_provider.urn)


def _problems(catalog: dict) -> list[str]:
    model = Catalog.model_validate({k: v for k, v in catalog.items()})
    return [f"{p.key}: {p.message}" for p in cross_check(model, "config/services.yaml")]


def test_derived_secret_references_are_checked(catalog: dict):
    catalog["secrets"]["bad_source"] = {"description": "x", "derive": {"from": "nope", "renderer": "redis_acl"}}
    catalog["secrets"]["bad_renderer"] = {"description": "x", "derive": {"from": "redis_password", "renderer": "nope"}}
    catalog["secrets"]["chained"] = {"description": "x", "derive": {"from": "redis_acl", "renderer": "redis_acl"}}
    problems = _problems(catalog)
    assert "secrets.bad_source.derive.from: secret 'nope' is not declared" in problems
    assert any(p.startswith("secrets.bad_renderer.derive.renderer: no secret renderer is named 'nope'") for p in problems)
    assert "secrets.chained.derive.from: secret 'redis_acl' is itself derived" in problems


def _renamed(catalog: dict, names: dict[str, str]) -> dict:
    """The catalog with secrets renamed everywhere they are referenced (keys, service lists, rotation pairs)."""
    text = json.dumps(catalog)
    for old, new in names.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return json.loads(text)


def test_the_bucket_signs_in_with_the_secrets_marked_spaces_key_whatever_their_names(catalog: dict, tmp_path):
    catalog = _renamed(catalog, {"spaces_access_key_id": "bucket_id", "spaces_secret_access_key": "bucket_key"})
    # The halves follow spaces_key:, not the names or the order: swap the marks and the keys swap.
    catalog["secrets"]["bucket_id"]["spaces_key"] = "secret_access_key"
    catalog["secrets"]["bucket_key"]["spaces_key"] = "access_key_id"
    plan = run_plan(catalog, tmp_path, overrides={"devtools:spacesAccessKeyId": "value-of-bucket-id",
                                                  "devtools:spacesSecretAccessKey": "value-of-bucket-key"})
    provider = plan.one("pulumi:providers:digitalocean")
    assert _plain(provider.inputs["spacesAccessId"]) == "value-of-bucket-key"
    assert _plain(provider.inputs["spacesSecretKey"]) == "value-of-bucket-id"
    assert plan.one("digitalocean:index/spacesBucket:SpacesBucket").provider.startswith(provider.urn)


def test_a_catalog_marking_no_spaces_key_ships_no_bucket(catalog: dict, tmp_path):
    for secret in catalog["secrets"].values():
        secret.pop("spaces_key", None)
    plan = run_plan(catalog, tmp_path)
    assert not plan.of_type("digitalocean:index/spacesBucket:SpacesBucket")
    assert not plan.of_type("pulumi:providers:digitalocean")


def test_a_spaces_key_half_alone_or_claimed_twice_is_refused(catalog: dict):
    catalog["secrets"]["spaces_secret_access_key"].pop("spaces_key")
    assert _problems(catalog) == ["secrets.spaces_access_key_id.spaces_key: is the access_key_id of a Spaces key pair no secret completes"]
    catalog["secrets"]["spaces_secret_access_key"]["spaces_key"] = "secret_access_key"
    catalog["secrets"]["do_snapshot_token"]["spaces_key"] = "secret_access_key"
    assert _problems(catalog) == ["secrets: spaces_secret_access_key, do_snapshot_token all claim spaces_key: secret_access_key"]
