"""Every setting QA Loop reads, in one pydantic-settings class that fails fast."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.rules.calibration import DEFAULT_AGREEMENT_PERCENT, DEFAULT_MIN_PAIRS
from bot.rules.cases import DEFAULT_CASE_REF_PATTERN
from bot.rules.disclosure import SUPPRESS_BELOW
from bot.rules.retention import Policy

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Teams' public Bot Connector endpoints; replies and proactive messages carry our token only here.
TEAMS_CONNECTOR_HOSTS = ("smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com")


class Settings(BaseSettings):
    """Read from QALOOP_* environment variables and a .env file."""

    model_config = SettingsConfigDict(
        env_prefix="QALOOP_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite+aiosqlite:///qaloop.db"

    # Field names match what botbuilder's ConfigurationBotFrameworkAuthentication reads.
    APP_ID: str = Field("", alias="QALOOP_APP_ID")
    APP_PASSWORD: SecretStr = Field(SecretStr(""), alias="QALOOP_APP_PASSWORD")
    APP_TENANTID: str = Field("", alias="QALOOP_APP_TENANT_ID")
    APP_TYPE: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = Field(
        "SingleTenant", alias="QALOOP_APP_TYPE"
    )
    # Where the Bot Framework publishes its signing keys; overridden only by tests.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        alias="QALOOP_OPENID_METADATA_URL",
    )
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = Field(
        "https://api.botframework.com", alias="QALOOP_TOKEN_ISSUER"
    )

    allowed_tenants: Annotated[list[str], NoDecode] = Field(default_factory=list)
    connector_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(TEAMS_CONNECTOR_HOSTS)
    )
    timezone: str = "Europe/London"
    send_rate: float = Field(25.0, gt=0, le=50)
    case_ref_pattern: str = DEFAULT_CASE_REF_PATTERN
    admin_contact: str = "your QA team"
    # A figure shown to anyone but QA that rests on fewer audits or responses than this reads
    # "fewer than 3" (bot.rules.disclosure).
    suppress_below: int = Field(SUPPRESS_BELOW, ge=1)
    # Calibration (bot.rules.calibration): an auditor's or a standard's agreement with the
    # moderators' blind grades is flagged once it rests on this many pairs and is under this
    # exact-agreement percentage.
    calibration_min_pairs: int = Field(DEFAULT_MIN_PAIRS, ge=1)
    calibration_agreement_percent: int = Field(DEFAULT_AGREEMENT_PERCENT, ge=1, le=100)
    # The council's own weekly step guide (Markdown, see bot/content/step_guide.md); unset, the
    # guide shipped with QA Loop. Read afresh for every guide, so an edit needs no restart.
    step_guide_file: Path | None = None
    # The council's own grade descriptors and practice themes (Markdown, see
    # bot/content/grade_descriptors.md and themes.md); unset, those shipped. Read afresh each time.
    grade_descriptors_file: Path | None = None
    themes_file: Path | None = None
    # The council's audit templates (a folder of Markdown files, see
    # bot/content/templates/mash.md); unset, those shipped.
    templates_dir: Path | None = None

    # The retention policy (README, "Retention"), applied by `qaloop purge` and the monthly job.
    retain_delivered_days: int = Field(30, ge=1)
    retain_leaver_reference_days: int = Field(90, ge=1)
    retain_free_text_years: int = Field(3, ge=1)
    retain_closed_audit_years: int = Field(6, ge=1)

    reminders_time: time = time(9, 0)
    step_guide_time: time = time(8, 45)
    digest_time: time = time(9, 0)
    briefing_time: time = time(10, 0)

    @field_validator("allowed_tenants", "connector_hosts", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("APP_ID", "APP_TENANTID", "APP_PASSWORD", mode="before")
    @classmethod
    def _not_blank(cls, value: object, info: ValidationInfo) -> object:
        """A credential set to spaces is a mistake, not a credential: refused, as are the spaces
        around an id (a secret is taken as it is)."""
        if isinstance(value, str) and value and not value.strip():
            name = {"APP_ID": "QALOOP_APP_ID", "APP_TENANTID": "QALOOP_APP_TENANT_ID"}
            raise ValueError(f"{name.get(info.field_name or '', 'QALOOP_APP_PASSWORD')} is blank")
        if isinstance(value, str) and info.field_name != "APP_PASSWORD":
            return value.strip()
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("step_guide_file", "grade_descriptors_file", "themes_file")
    @classmethod
    def _readable(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{info.field_name} {str(value)!r} is not a file")
        return value

    @field_validator("templates_dir")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"templates_dir {str(value)!r} is not a folder")
        return value

    @field_validator("case_ref_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"case_ref_pattern is not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        given = [
            bool(self.APP_ID),
            bool(self.APP_PASSWORD.get_secret_value()),
            bool(self.APP_TENANTID),
        ]
        if any(given) and not all(given):
            raise ValueError(
                "set all of QALOOP_APP_ID, QALOOP_APP_PASSWORD and QALOOP_APP_TENANT_ID, or none"
            )
        if self.has_credentials and self.APP_TYPE != "SingleTenant":
            raise ValueError("QALOOP_APP_TYPE must be SingleTenant (multi-tenant bots are retired)")
        return self

    @property
    def has_credentials(self) -> bool:
        return bool(self.APP_ID)

    @property
    def retention(self) -> Policy:
        return Policy(
            delivered_days=self.retain_delivered_days,
            leaver_reference_days=self.retain_leaver_reference_days,
            free_text_years=self.retain_free_text_years,
            closed_audit_years=self.retain_closed_audit_years,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def tenants_allowed(self) -> frozenset[str]:
        """Tenants whose activities we accept; empty means any (development only)."""
        tenants = set(self.allowed_tenants)
        if self.has_credentials:
            tenants.add(self.APP_TENANTID)
        return frozenset(tenants)

    def connector_host_allowed(self, host: str) -> bool:
        """Whether our token may be sent to a connector at this host."""
        if not self.has_credentials:
            return host in LOOPBACK_HOSTS
        return any(host == h or host.endswith("." + h) for h in self.connector_hosts)
