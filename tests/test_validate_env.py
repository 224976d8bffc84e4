"""`python -m ops validate-env`: bad .env and stack files, each with its message; good ones pass."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from catalog.services import load_catalog
from catalog.settings import secret_config_keys
from ops.__main__ import main
from ops.dotenv import parse_env
from ops.validate_env import check_env_file, check_stack, env_key, required_keys

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "config" / "services.yaml")

SETTINGS_ENV = """\
# Dev-Tools production environment
REGION=nyc3
DROPLET_SIZE=s-8vcpu-16gb
DOMAIN=devtools.appsmithery.co
ACME_EMAIL="ops@appsmithery.co"
SSH_KEYS='3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'
export ADMIN_CIDRS=198.51.100.7/32, 203.0.113.0/28   # office and VPN
SSO_CLIENT_ID=Ov23liDevtoolsProd01
SSO_GITHUB_ORG=appsmithery
CONTAINER_REGISTRY=appsmithery-devtools
PLATFORM_GIT_SHA=b7cfbe38ca7b74c7ab7c96a2ccd139b38f6eb931
LANGCHAIN_ENDPOINT=https://api.smith.langchain.com
LOG_LEVEL=info
"""


def realistic(key: str) -> str:
    return "tok_" + hashlib.sha256(key.encode()).hexdigest()[:40]


def good_env() -> str:
    secrets = "".join(f"{env_key(k)}={realistic(k)}\n" for k in secret_config_keys(CATALOG))
    return SETTINGS_ENV + secrets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def replaced(text: str, key: str, line: str | None) -> str:
    """`text` with the line setting `key` replaced by `line` (or removed when None)."""
    out = [raw for raw in text.splitlines() if not raw.removeprefix("export ").startswith(f"{key}=")]
    if line is not None:
        out.append(line)
    return "\n".join(out) + "\n"


def test_good_env_file_passes(tmp_path):
    assert check_env_file(write(tmp_path, good_env()), CATALOG) == []


def test_required_keys_come_from_the_settings_and_the_catalog_secrets():
    required = required_keys(CATALOG)
    assert {"region", "dropletSize", "domain", "acmeEmail", "sshKeys", "adminCidrs", "ssoClientId"} <= set(required)
    assert set(secret_config_keys(CATALOG)) <= set(required)
    assert "volumeSizeGb" not in required       # has a default


BAD = [
    ("DOMAIN", None, "DOMAIN", "is required but missing"),
    ("LINEAR_OAUTH_TOKEN", None, "LINEAR_OAUTH_TOKEN", "secret for linear_oauth_token is not set"),
    ("SSO_CLIENT_SECRET", "SSO_CLIENT_SECRET=", "SSO_CLIENT_SECRET", "secret for sso_client_secret is not set"),
    ("GRADIENT_API_KEY", "GRADIENT_API_KEY=changeme", "GRADIENT_API_KEY", "secret for gradient_api_key is the stand-in value 'changeme'"),
    ("LANGSMITH_API_KEY", "LANGSMITH_API_KEY=<your-langsmith-key>", "LANGSMITH_API_KEY", "secret for langchain_api_key starts a 'your-...' stand-in"),
    ("DOMAIN", "DOMAIN=https://devtools.acme.io", "DOMAIN", "'https://devtools.acme.io' is not a domain name"),
    ("ACME_EMAIL", "ACME_EMAIL=ops-at-acme.io", "ACME_EMAIL", "'ops-at-acme.io' is not an e-mail address"),
    ("ADMIN_CIDRS", "ADMIN_CIDRS=198.51.100.7/33", "ADMIN_CIDRS[0]", "'198.51.100.7/33' is not a CIDR block"),
    ("ADMIN_CIDRS", "ADMIN_CIDRS=0.0.0.0/0", "ADMIN_CIDRS[0]", "'0.0.0.0/0' opens SSH to the whole internet"),
    ("LANGCHAIN_ENDPOINT", "LANGCHAIN_ENDPOINT=api.smith.langchain.com", "LANGCHAIN_ENDPOINT", "'api.smith.langchain.com' is not an http(s) URL"),
    ("ALERT_EMAIL", "ALERT_EMAIL=oncall", "ALERT_EMAIL", "'oncall' is not an e-mail address"),
    ("LOG_LEVEL", "LOG_LEVEL=TODO", "LOG_LEVEL", "value is the stand-in value 'TODO'"),
    ("SSO_GITHUB_ORG", None, "SSO_EMAIL_DOMAINS", "is empty and ssoGithubOrg is unset: any account could sign in"),
    ("SSO_EMAIL_DOMAINS", "SSO_EMAIL_DOMAINS=acme.io,not_a_domain", "SSO_EMAIL_DOMAINS[1]", "'not_a_domain' is not a domain name"),
    ("DROPLET_SIZE", "DROPLET_SIZE=huge", "DROPLET_SIZE", "droplet size 'huge' is not one this project knows"),
    ("REGION", "REGION = nyc3", None, None),  # spaces around = are accepted
    ("REGION", "REGION='nyc3", "REGION (line {n})", "the ' quote is never closed"),
    ("REGION", "just some words", "line {n}", "is not a KEY=VALUE line"),
    ("DOMAIN", "DOMAIN=devtools.appsmithery.co\nDOMAIN=other.appsmithery.co", "DOMAIN (line {next})", "is set twice (first on line {n})"),
]


@pytest.mark.parametrize(("key", "line", "problem_key", "message"), BAD, ids=[f"{b[0]}:{b[1]}" for b in BAD])
def test_bad_env_file_reports_the_key_and_a_fix(tmp_path, key, line, problem_key, message):
    problems = check_env_file(write(tmp_path, replaced(good_env(), key, line)), CATALOG)
    n = len(replaced(good_env(), key, None).splitlines()) + 1   # where the changed line lands
    if problem_key is not None:
        problem_key, message = problem_key.format(n=n, next=n + 1), message.format(n=n)
    if problem_key is None:
        assert problems == []
        return
    assert (problem_key, message) in [(p.key, p.message) for p in problems]
    assert all(p.fix and p.file.endswith(".env") for p in problems)


def test_fix_for_a_missing_key_is_in_the_env_files_terms(tmp_path):
    [problem] = check_env_file(write(tmp_path, replaced(good_env(), "SSH_KEYS", None)), CATALOG)
    assert problem.fix.startswith("set SSH_KEYS=<a comma-separated list> in ")


def test_secret_values_are_never_printed(tmp_path, capsys):
    leaked = "your-token-7f1d2c"
    path = write(tmp_path, replaced(good_env(), "LINEAR_OAUTH_TOKEN", f"LINEAR_OAUTH_TOKEN={leaked}"))
    assert main(["validate-env", "--env-file", str(path)]) == 1
    out = capsys.readouterr().out
    assert "LINEAR_OAUTH_TOKEN: secret for linear_oauth_token starts a 'your-...' stand-in" in out
    assert leaked not in out


def test_quotes_comments_and_escapes_are_read_like_the_platform_does():
    entries, problems = parse_env('A="x \\"q\\" # not a comment"\nB=plain # comment\nC=\'$literal\\n\'\nexport D=\n', ".env")
    assert problems == []
    assert {e.key: e.value for e in entries} == {"A": 'x "q" # not a comment', "B": "plain", "C": "$literal\\n", "D": ""}


STACK_HEAD = """\
config:
  devtools:region: nyc3
  devtools:dropletSize: s-8vcpu-16gb
  devtools:domain: devtools.appsmithery.co
  devtools:acmeEmail: ops@appsmithery.co
  devtools:sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"]
  devtools:adminCidrs: [198.51.100.7/32]
  devtools:ssoClientId: Ov23liDevtoolsProd01
  devtools:ssoGithubOrg: appsmithery
  devtools:qdrantUrl: https://vectors.example.io:6333
  devtools:linearOauthClientId: lin-client-3141
  devtools:linearOauthRedirectUri: https://devtools.appsmithery.co/mcp/oauth/linear/callback
  devtools:linearWebhookUri: https://devtools.appsmithery.co/mcp/webhooks/linear
  devtools:linearApprovalHubIssueId: DEV-68
  devtools:smtpHost: smtp.sendgrid.net
  devtools:smtpUser: apikey
  devtools:notificationEmailTo: approvals@appsmithery.co
  devtools:notificationEmailFrom: devtools@appsmithery.co
  devtools:containerRegistry: appsmithery-devtools
  devtools:platformGitSha: b7cfbe38ca7b74c7ab7c96a2ccd139b38f6eb931
"""


def stack_file(tmp_path: Path, plain: str | None = None, missing: str | None = None) -> Path:
    lines = [STACK_HEAD]
    for key in secret_config_keys(CATALOG):
        if key == missing:
            continue
        if key == plain:
            lines.append(f"  devtools:{key}: {realistic(key)}\n")
        else:
            lines.append(f"  devtools:{key}:\n    secure: v1:AAAABBBBCCCC{key}\n")
    (tmp_path / "Pulumi.test.yaml").write_text("".join(lines))
    return tmp_path


def test_stack_with_every_secret_set_encrypted_passes(tmp_path):
    problems, encrypted = check_stack("test", folder=stack_file(tmp_path))
    assert problems == []
    assert set(encrypted) == set(secret_config_keys(CATALOG))


def test_stack_with_a_secret_in_plain_text_or_missing_fails_with_the_pulumi_fix(tmp_path):
    problems, _ = check_stack("test", folder=stack_file(tmp_path, plain="gradientApiKey", missing="ssoClientSecret"))
    found = {(p.key, p.message): p.fix for p in problems}
    assert found[("devtools:gradientApiKey", "is a secret stored in plain text")].startswith(
        "pulumi config rm devtools:gradientApiKey && pulumi config set --secret devtools:gradientApiKey")
    assert found[("devtools:ssoClientSecret", "secret for sso_client_secret is not set")].startswith(
        "pulumi config set --secret devtools:ssoClientSecret")
    assert realistic("gradientApiKey") not in "".join(str(p) for p in problems)


def test_command_exit_codes(tmp_path, capsys):
    good = write(tmp_path, good_env())
    # The shipped stack has no secrets set in this repository, so only the .env part can pass alone.
    assert main(["validate-env", "--env-file", str(good)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: ok" in out
    assert "Pulumi.prod.yaml: " in out and "secret for sso_client_secret is not set" in out


def test_missing_env_file_is_a_problem_not_a_traceback(tmp_path, capsys):
    absent = tmp_path / "absent.env"
    assert main(["validate-env", "--env-file", str(absent)]) == 1
    assert f"{absent}: (file): file not found" in capsys.readouterr().out
