"""A deployed stage's names, read from `.chalice/config.json`.

The stage configuration is the only place a stage's table prefix, bucket, key alias and
SES identity are written; the template, the IAM policy and the deploy script take them from here so
the functions' environment and the resources they are allowed to touch cannot differ.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"
LOCAL = "local"


class StageError(ValueError):
    """The stage cannot be deployed as configured."""


@dataclass(frozen=True)
class Stage:
    name: str
    app_name: str
    table_prefix: str
    mail_bucket: str
    kms_alias: str
    ses_identity: str  # the SES identity (domain or address) the stage sends as
    api_stage: str
    memory_mb: int
    timeout_s: int

    @property
    def stack_name(self) -> str:
        return f"wildduck-{self.name}"

    @property
    def secret_name(self) -> str:
        """Secrets Manager secret holding ACCESS_TOKEN and CURSOR_SECRET (JSON keys)."""
        return f"wildduck/{self.name}/api"

    @property
    def parameters(self) -> dict[str, str]:
        """Template parameters whose only allowed value comes from the stage."""
        return {"Stage": self.name, "TablePrefix": self.table_prefix,
                "MailBucketName": self.mail_bucket, "KmsAlias": self.kms_alias,
                "SecretName": self.secret_name, "SesIdentity": self.ses_identity}


def _config() -> dict[str, Any]:
    return json.loads(CONFIG.read_text())


def stage_names() -> list[str]:
    """Every stage that deploys (all but the moto-backed `local`)."""
    return [name for name in _config()["stages"] if name != LOCAL]


def load(name: str) -> Stage:
    """The stage `name`, checked: names must be the stage's own (`wildduck-<name>-...`)
    so that one stage's policy can never match another stage's resources."""
    config = _config()
    if name == LOCAL or name not in config["stages"]:
        raise StageError(f"unknown deployable stage {name!r}; one of {stage_names()}")
    stage = config["stages"][name]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}

    def setting(key: str, default: Any) -> Any:
        return stage.get(key, config.get(key, default))

    result = Stage(
        name=name, app_name=config["app_name"],
        table_prefix=env.get("TABLE_PREFIX", ""), mail_bucket=env.get("MAIL_BUCKET", ""),
        kms_alias=env.get("KMS_KEY_ID", ""),
        ses_identity=env.get("SES_IDENTITY") or env.get("DEFAULT_DOMAIN", ""),
        api_stage=setting("api_gateway_stage", "api"),
        memory_mb=int(setting("lambda_memory_size", 128)),
        timeout_s=int(setting("lambda_timeout", 60)))
    problems = []
    if not re.fullmatch(rf"wildduck-{re.escape(name)}-", result.table_prefix):
        problems.append(f"TABLE_PREFIX must be 'wildduck-{name}-'")
    if not re.fullmatch(rf"wildduck-{re.escape(name)}-[a-z0-9-]+", result.mail_bucket):
        problems.append(f"MAIL_BUCKET must start with 'wildduck-{name}-'")
    if result.kms_alias != f"alias/wildduck-{name}":
        problems.append(f"KMS_KEY_ID must be 'alias/wildduck-{name}'")
    if not re.fullmatch(r"[^\s@*]+@[^\s@*]+|[a-z0-9.-]+\.[a-z]{2,}", result.ses_identity):
        problems.append("SES_IDENTITY (or DEFAULT_DOMAIN) must name the stage's sending "
                        "domain or address")
    if problems:
        raise StageError(f"stage {name}: " + "; ".join(problems))
    return result
