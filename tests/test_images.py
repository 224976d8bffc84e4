"""Images that exist, with versions: the registry, built or prebuilt images, and the moving-tag rule."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from conftest import CONTAINER, run_plan, shipped_catalog
from policy_helpers import check, rule_form

from catalog.errors import InputError
from catalog.inputs import load_inputs
from catalog.services import load_catalog
from ops.local_servers import shipped_catalog_and_settings
from ops.policy_config import resolve
from ops.stackfile import read_stack_config
from policies.devtools_policy.images import image_pin_problem
from policies.devtools_policy.values import is_unknown

IMAGE = "docker-build:index:Image"
SECRET_MARK = "4dabf18193072939515e22adb298388d"
CATALOG, SETTINGS = shipped_catalog_and_settings()
BUILT = {name: spec for name, spec in CATALOG.services.items() if spec.build is not None}
PLATFORM = {name: spec for name, spec in BUILT.items() if spec.build.source == "platform"}
ENDPOINT = f"registry.digitalocean.com/{SETTINGS.container_registry}"
DIGEST = "sha256:" + "ab" * 32


def git(checkout: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_DATE": "2025-11-19T23:04:59-05:00", "GIT_COMMITTER_DATE": "2025-11-19T23:04:59-05:00",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(checkout), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(checkout), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, str]:
    """A platform checkout holding a Dockerfile at each path the catalog builds from, committed."""
    source = tmp_path / "code-chef"
    for spec in PLATFORM.values():
        dockerfile = source / spec.build.dockerfile
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
        dockerfile.write_text("FROM python:3.11.10-slim\nARG GIT_SHA\nARG BUILD_DATE\n")
    git(source, "init", "-q")
    git(source, "add", ".")
    git(source, "commit", "-q", "-m", "platform")
    return source, git(source, "rev-parse", "HEAD")


def build_mode(source: Path, sha: str) -> dict[str, str]:
    return {"devtools:platformSource": str(source), "devtools:platformGitSha": sha}


def test_build_mode_builds_pushes_and_runs_each_platform_image_by_digest(checkout):
    source, sha = checkout
    plan = run_plan(overrides=build_mode(source, sha))
    images = {r.name.removesuffix("-image"): r for r in plan.of_type(IMAGE)}
    assert set(images) == set(BUILT)
    created = "2025-11-20T04:04:59Z"  # the commit's time in UTC, not the clock: the same SHA builds the same
    containers = plan.containers()
    for name, spec in PLATFORM.items():
        image = images[name].inputs
        assert image["tags"] == [f"{ENDPOINT}/{spec.image}:{sha}"]
        assert image["context"] == {"location": str(source / spec.build.context)}
        assert image["dockerfile"] == {"location": str(source / spec.build.dockerfile)}
        assert image["buildArgs"] == {"GIT_SHA": sha, "BUILD_DATE": created}
        assert image["labels"] == {"org.opencontainers.image.revision": sha, "org.opencontainers.image.created": created,
                                   "org.opencontainers.image.source": SETTINGS.platform_repository_url}
        assert image["push"] is True and image["platforms"] == ["linux/amd64"] and image["buildOnPreview"] is False
        # The push login is the registry's write credential, kept secret.
        assert image["registries"][SECRET_MARK] and image["registries"]["value"][0]["address"] == "registry.digitalocean.com"
        # The container runs what was pushed: the SHA tag pinned to the digest the push returned.
        ran = containers[name].inputs["image"]
        assert ran.startswith(f"{ENDPOINT}/{spec.image}:{sha}@sha256:") and len(ran.split("@sha256:")[1]) == 64
        labels = {entry["label"]: entry["value"] for entry in containers[name].inputs["labels"]}
        assert labels["devtools.version"] == ran.split("@", 1)[1][:19]
        assert images[name].urn in containers[name].dependencies
    credentials = {r.name: r.inputs for r in plan.of_type(
        "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials")}
    assert credentials["registry-pull"]["write"] is False and credentials["registry-push"]["write"] is True


def test_first_preview_of_a_build_leaves_the_digests_unknown_and_the_pack_quiet(checkout):
    source, sha = checkout
    plan = run_plan(overrides=build_mode(source, sha), known=False)
    for name in BUILT:
        props = rule_form(plan.containers()[name].inputs)
        assert is_unknown(props["image"]), name  # the digest exists only once the image is pushed
        assert check("image-pinned", CONTAINER, props) == []


def test_prebuilt_by_sha_tag_builds_only_the_projects_own_images(shipped_plan):
    images = {r.name.removesuffix("-image") for r in shipped_plan.of_type(IMAGE)}
    assert images == {name for name, spec in BUILT.items() if spec.build.source == "project"}
    for name, spec in PLATFORM.items():
        assert shipped_plan.containers()[name].inputs["image"] == f"{ENDPOINT}/{spec.image}:{SETTINGS.platform_git_sha}"


def test_the_droplet_pulls_with_the_read_only_credential_kept_secret(shipped_plan):
    provider = shipped_plan.one("pulumi:providers:docker").inputs
    wrapped = provider["registryAuth"]
    assert wrapped[SECRET_MARK]  # the credential never shows in plain text
    auth = json.loads(wrapped["value"])
    pull = next(r for r in shipped_plan.of_type(
        "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials") if r.name == "registry-pull")
    assert pull.inputs["write"] is False
    assert auth[0]["address"] == "registry.digitalocean.com" and "auths" in json.loads(auth[0]["configFileContent"])
    registry = shipped_plan.one("digitalocean:index/containerRegistry:ContainerRegistry").inputs
    assert registry == {"name": SETTINGS.container_registry, "subscriptionTierSlug": "professional", "region": SETTINGS.region}


def test_prebuilt_by_digest_runs_that_digest_and_builds_nothing_for_it(checkout):
    source, sha = checkout
    pinned = f"registry.example.com/team/orchestrator@{DIGEST}"
    plan = run_plan(overrides={**build_mode(source, sha), "devtools:platformImages": json.dumps({"orchestrator": pinned})})
    assert plan.containers()["orchestrator"].inputs["image"] == pinned
    assert "orchestrator-image" not in {r.name for r in plan.of_type(IMAGE)}
    assert "cicd-image" in {r.name for r in plan.of_type(IMAGE)}


def test_project_images_are_tagged_by_their_content(shipped_plan):
    for name, spec in BUILT.items():
        if spec.build.source != "project":
            continue
        image = next(r for r in shipped_plan.of_type(IMAGE) if r.name == f"{name}-image").inputs
        (tag,) = image["tags"]
        assert tag.startswith(f"{ENDPOINT}/{spec.image}:") and image["labels"] == {"org.opencontainers.image.version": tag.rsplit(":", 1)[1]}
        assert shipped_plan.containers()[name].inputs["image"].startswith(tag + "@sha256:")


def _problems(overrides: dict[str, str | None]) -> InputError:
    config = dict(read_stack_config("prod", None).config)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    return caught.value


BAD_IMAGE_SETTINGS = [
    ({"devtools:platformGitSha": "b7cfbe3"}, "devtools:platformGitSha", "not a full git commit SHA", "rev-parse"),
    ({"devtools:platformGitSha": None}, "devtools:platformGitSha", "have no version", "devtools:platformSource"),
    ({"devtools:containerRegistry": None}, "devtools:containerRegistry", "is not set", "pulumi config set devtools:containerRegistry"),
    ({"devtools:containerRegistry": "Dev_Tools"}, "devtools:containerRegistry", "not a registry name", "lower-case"),
    ({"devtools:registryTier": "basic"}, "devtools:registryTier", "holds 5 repositories", "registryTier professional"),
    ({"devtools:platformImages": '{"orchestrator": "acme/orchestrator:latest"}'}, "devtools:platformImages.orchestrator",
     "moving tag 'latest'", "digest"),
    ({"devtools:platformImages": '{"orchestrator": "acme/orchestrator:1.2.3"}'}, "devtools:platformImages.orchestrator",
     "a new push can move", "full git SHA"),
    ({"devtools:platformImages": f'{{"redis": "acme/redis@{DIGEST}"}}'}, "devtools:platformImages.redis",
     "names no built service", "orchestrator"),
    ({"devtools:imageTags": '{"orchestrator": "0.2.1"}'}, "devtools:imageTags.orchestrator", "is a built image",
     "devtools:platformImages.orchestrator"),
    ({"devtools:imageTags": '{"redis": "7-alpine"}'}, "devtools:imageTags.redis", "moving tag '7-alpine'", "redis:7.<minor>.<patch>-alpine"),
    ({"devtools:platformSource": "/nonexistent/code-chef"}, "devtools:platformSource", "is not a directory", "clone"),
    ({"devtools:platformSource": "/tmp", "devtools:platformGitSha": None}, "devtools:platformSource", "without devtools:platformGitSha",
     "rev-parse HEAD"),
    ({"devtools:platformRepositoryUrl": "github.com/x"}, "devtools:platformRepositoryUrl", "not an http(s) URL", "https://"),
]


@pytest.mark.parametrize("overrides, key, message, fix", BAD_IMAGE_SETTINGS, ids=[c[2] for c in BAD_IMAGE_SETTINGS])
def test_bad_image_settings_are_refused_with_the_key_and_fix(overrides, key, message, fix):
    error = _problems(overrides)
    found = [p for p in error.problems if p.key == key]
    assert len(found) == 1, error.render()
    assert found[0].file == "Pulumi.prod.yaml"
    assert message in found[0].message and fix in found[0].fix, error.render()


def test_a_checkout_must_be_at_the_sha_unchanged_and_hold_every_dockerfile(checkout):
    source, sha = checkout
    assert run_plan(overrides=build_mode(source, sha))  # the clean checkout at its SHA builds
    other = "0" * 40
    wrong = _problems(build_mode(source, other))
    assert [p.message for p in wrong.problems] == [f"is at commit {sha}, not devtools:platformGitSha {other}"]
    assert f"git -C {source} checkout {other}" in wrong.problems[0].fix

    dockerfile = source / next(iter(PLATFORM.values())).build.dockerfile
    dockerfile.write_text("FROM python:3.11.10-slim\nRUN echo changed\n")
    dirty = _problems(build_mode(source, sha))
    assert [p.message for p in dirty.problems] == ["has uncommitted changes: the images would not be what the commit holds"]

    dockerfile.unlink()
    git(source, "commit", "-q", "-am", "drop one Dockerfile")
    missing = _problems(build_mode(source, git(source, "rev-parse", "HEAD")))
    assert [p.message for p in missing.problems] == [
        f"has no Dockerfile {dockerfile.relative_to(source).as_posix()} for service {next(iter(PLATFORM))}"]


def test_a_plain_directory_cannot_label_its_images(tmp_path):
    for spec in PLATFORM.values():
        (tmp_path / spec.build.dockerfile).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / spec.build.dockerfile).write_text("FROM scratch\n")
    error = _problems(build_mode(tmp_path, "1" * 40))
    assert [p.key for p in error.problems] == ["devtools:platformSource"]
    assert "is not a git checkout" in error.problems[0].message


def _catalog_with(tmp_path: Path, service: str, **changes) -> InputError:
    catalog = shipped_catalog()
    catalog["services"][service].update(changes)
    path = tmp_path / "services.yaml"
    path.write_text(json.dumps(catalog))
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    return caught.value


@pytest.mark.parametrize("service, changes, key, words", [
    ("redis", {"image": "redis:7-alpine"}, "services.redis.image", "pin the full version, redis:7.<minor>.<patch>-alpine"),
    ("postgres", {"image": "postgres:16"}, "services.postgres.image", "pin the full version, postgres:16.<minor>"),
    ("grafana", {"image": "alextorelli28/appsmithery:grafana-latest"}, "services.grafana.image", "moving tag 'grafana-latest'"),
    ("orchestrator", {"image": "ghcr.io/acme/orchestrator:1.0"}, "services.orchestrator.image", "bare repository"),
    ("orchestrator", {"build": {"dockerfile": "../outside/Dockerfile"}}, "services.orchestrator.build.dockerfile",
     "not a path inside the checkout"),
])
def test_catalog_refuses_moving_tags_and_bad_builds(tmp_path, service, changes, key, words):
    error = _catalog_with(tmp_path, service, **changes)
    found = [p for p in error.problems if p.key == key]
    assert len(found) == 1, error.render()
    assert words in f"{found[0].message} {found[0].fix}"


@pytest.mark.parametrize("image, fires", [
    ("redis:7-alpine", True), ("postgres:16", True), ("redis:7.4", True), ("traefik:v3", True), ("redis:alpine", True),
    ("docker.io/library/redis:7", True), ("alextorelli28/appsmithery:orchestrator-latest", True),
    ("redis@sha256:abc", True), ("not an image", True),
    ("redis:7.4.1-alpine", False), ("postgres:16.6-bookworm", False), ("traefik:v3.7.15", False),
    ("redis:7@" + DIGEST, False),  # a digest pins even a moving tag
    ("grafana/grafana:12.1.1", False), (f"{ENDPOINT}/orchestrator:{'b' * 40}", False),
])
def test_image_pinned_rule_and_catalog_share_one_judgement(shipped_plan, image, fires):
    props = rule_form(shipped_plan.containers()["redis"].inputs)
    props["image"] = image
    found = check("image-pinned", CONTAINER, props)
    assert bool(found) is fires
    problem = image_pin_problem(image)
    assert found == ([problem[0]] if problem else [])


def test_image_pinned_over_grpc(policy_pack, shipped_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    redis = copy.deepcopy(shipped_plan.containers()["redis"])
    assert "image-pinned" not in {v.policy for v in policy_pack.analyze(redis)}
    redis.inputs["image"] = "redis:7-alpine"
    found = [v for v in policy_pack.analyze(redis) if v.policy == "image-pinned"]
    assert [(v.enforcement, v.message) for v in found] == [
        ("mandatory", "image 'redis:7-alpine' uses the moving tag '7-alpine': the official image re-points it at every release")]
    redis.inputs["image"] = "redis:7-alpine@" + DIGEST
    assert "image-pinned" not in {v.policy for v in policy_pack.analyze(redis)}


def test_commit_time_is_utc(checkout):
    from targets.registry import commit_time

    source, sha = checkout
    assert commit_time(source, sha) == dt.datetime(2025, 11, 20, 4, 4, 59, tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
