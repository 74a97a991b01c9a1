"""SQLModel tables for the whole QA Loop domain; every row carries its tenant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        """process_result_value with the backend's own parsing, in one call per value (the
        default wraps them in two, which an export of 300k rows pays for a million times)."""
        parse = self.impl_instance.result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            found = value if parse is None else parse(value)
            assert isinstance(found, datetime)
            return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)

        return process


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


def _changed() -> Any:
    """When the row last changed (any UPDATE through SQLAlchemy sets it): what `qaloop export
    --since` reads. Nullable only because rows from before migration 0011 were backfilled."""
    return Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=True,
        sa_column_kwargs={"onupdate": utcnow},
    )


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=sa.JSON, nullable=nullable)


def _tenant() -> Any:
    return Field(foreign_key="tenant.id", index=True, max_length=64)


class Tenant(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    timezone: str = Field(default="Europe/London", max_length=64)
    # The response to risk or an inadequate audit: how soon the action meeting and the child
    # visit are due, counted in working or calendar days (bot.rules.deadlines reads these).
    meeting_due_days: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    meeting_due_unit: str = Field(
        default="working", max_length=16, sa_column_kwargs={"server_default": "working"}
    )
    visit_due_days: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    visit_due_unit: str = Field(
        default="working", max_length=16, sa_column_kwargs={"server_default": "working"}
    )
    # What a closed case does to its open actions: "keep" or "close" (bot.rules.lifecycle).
    closed_case_actions: str = Field(
        default="keep", max_length=16, sa_column_kwargs={"server_default": "keep"}
    )
    # Monthly audit programme targets (bot.rules.programmes); 0: none set. The team manager
    # target is each TM's.
    target_collaborative: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    target_thematic: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    target_senior_manager: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    target_team_manager: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When an audit is re-audited (bot.rules.reaudit): this many months after it was completed,
    # and for requires improvement as well as inadequate when set.
    reaudit_months: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    reaudit_requires_improvement: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    created_at: datetime = _ts()


class Service(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    name: str = Field(max_length=200)


class Team(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    service_id: int = Field(foreign_key="service.id", index=True)
    name: str = Field(max_length=200)


class Staff(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "email"),
        sa.UniqueConstraint("tenant_id", "aad_object_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    email: str = Field(max_length=320)
    display_name: str = Field(max_length=200)
    aad_object_id: str | None = Field(default=None, max_length=64)
    # Space-separated role values (see bot.rules.roles.Role); a person may hold several.
    roles: str = Field(default="practitioner", max_length=200)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    # The person's service: a team member's team's, or the one a service manager or HoS leads.
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    manager_id: int | None = Field(default=None, foreign_key="staff.id")
    # ISO weekday numbers the person works, e.g. "12345"; a part-time pattern narrows it.
    working_days: str = Field(default="12345", max_length=7)
    away_until: date | None = None
    reachable: bool = True
    unreachable_since: datetime | None = _ts(nullable=True)
    active: bool = True
    created_at: datetime = _ts()

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


class Case(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "case_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    # A pseudonymous reference from the case system; never a child's name.
    case_ref: str = Field(max_length=32)
    team_id: int = Field(foreign_key="team.id", index=True)
    worker_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    status: str = Field(default="open", max_length=16)
    opened_on: date | None = None


class Allocation(SQLModel, table=True):
    """One reproducible random selection of cases for a month's collaborative audits."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "month"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    month: str = Field(max_length=7)
    seed: str = Field(max_length=64)
    candidate_fingerprint: str = Field(max_length=64)
    per_team: int
    # Cases audited within this many months before were left out.
    excluded_months: int = Field(default=12)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = _ts()


class Audit(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_audit_tenant_auditor_state", "tenant_id", "auditor_id", "state"),
        sa.Index("ix_audit_tenant_practitioner", "tenant_id", "practitioner_id"),
        sa.Index("ix_audit_tenant_completed", "tenant_id", "completed_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    case_id: int = Field(foreign_key="case.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    kind: str = Field(default="collaborative", max_length=32)
    theme: str | None = Field(default=None, max_length=200)
    state: str = Field(default="assigned", max_length=16)
    auditor_id: int = Field(foreign_key="staff.id")
    practitioner_id: int | None = Field(default=None, foreign_key="staff.id")
    allocation_id: int | None = Field(default=None, foreign_key="allocation.id")
    due_on: date
    grade_heart: str | None = Field(default=None, max_length=24)
    grade_assessment: str | None = Field(default=None, max_length=24)
    grade_plans: str | None = Field(default=None, max_length=24)
    grade_records: str | None = Field(default=None, max_length=24)
    grade_oversight: str | None = Field(default=None, max_length=24)
    grade_strengths: str | None = Field(default=None, max_length=24)
    overall_grade: str | None = Field(default=None, max_length=24)
    limiting_reason: str | None = Field(default=None, max_length=2000)
    risk_identified: bool = False
    summary: str | None = Field(default=None, max_length=2000)
    strengths_seen: str | None = Field(default=None, max_length=2000)
    declined_reason: str | None = Field(default=None, max_length=2000)
    # Why it will not be done ("case closed"): compliance leaves it out and says why.
    cancelled_reason: str | None = Field(default=None, max_length=2000)
    meeting_due_on: date | None = None
    visit_due_on: date | None = None
    # The day the child was seen, as the social worker recorded it (not the day they recorded it).
    visited_on: date | None = None
    # The audit this one re-audits: the same case, months after it was graded inadequate.
    reaudit_of: int | None = Field(default=None, foreign_key="audit.id", index=True)
    created_at: datetime = _ts()
    completed_at: datetime | None = _ts(nullable=True)
    completed_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime | None = _changed()


class Moderation(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "audit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id")
    moderator_id: int = Field(foreign_key="staff.id")
    month: str = Field(max_length=7)
    # {"heart": true, ..., "overall": false}
    agreement: dict[str, bool] | None = _json()
    comment: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()
    decided_at: datetime | None = _ts(nullable=True)
    updated_at: datetime | None = _changed()


class ModerationGrade(SQLModel, table=True):
    """One judgement of a blind moderation (a standard, or "overall"): the moderator's own grade,
    given before they were shown the auditor's; the auditor's grade as it was then shown; and
    the grade agreed once both were seen."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "moderation_id", "judgement"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    moderation_id: int = Field(foreign_key="moderation.id", index=True)
    judgement: str = Field(max_length=16)
    # None where the auditor left the standard ungraded: no pair to compare.
    auditor_grade: str | None = Field(default=None, max_length=24)
    moderator_grade: str = Field(max_length=24)
    agreed_grade: str | None = Field(default=None, max_length=24)


class CalibrationExercise(SQLModel, table=True):
    """QA's calibration exercise: one anonymised case's evidence summary sent to every auditor."""

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    summary: str = Field(max_length=2000)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class CalibrationResponse(SQLModel, table=True):
    """An auditor the exercise was sent to, and their grade for each standard once sent."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "exercise_id", "auditor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    exercise_id: int = Field(foreign_key="calibrationexercise.id", index=True)
    auditor_id: int = Field(foreign_key="staff.id")
    grade_heart: str | None = Field(default=None, max_length=24)
    grade_assessment: str | None = Field(default=None, max_length=24)
    grade_plans: str | None = Field(default=None, max_length=24)
    grade_records: str | None = Field(default=None, max_length=24)
    grade_oversight: str | None = Field(default=None, max_length=24)
    grade_strengths: str | None = Field(default=None, max_length=24)
    graded_at: datetime | None = _ts(nullable=True)


class AuditTheme(SQLModel, table=True):
    """A practice theme the auditor saw in an audit, as a strength or an area to improve."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "audit_id", "theme"),
        sa.Index("ix_audittheme_tenant_theme", "tenant_id", "theme"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id", index=True)
    standard: str = Field(max_length=16)
    # The key in the themes file, kept when the theme is reworded; and its name when ticked, so a
    # theme since removed from the file still reads by its name.
    theme: str = Field(max_length=60)
    title: str = Field(max_length=80)
    finding: str = Field(max_length=16)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class TemplateAnswer(SQLModel, table=True):
    """An answer to one of an audit template's questions, with the template's version, so the
    answers are compared when the template is used again (bot.rules.templates)."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "audit_id", "question"),
        sa.Index("ix_templateanswer_tenant_template", "tenant_id", "template"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id", index=True)
    template: str = Field(max_length=60)
    version: int
    question: str = Field(max_length=60)
    answer: str = Field(max_length=500)
    answered_by: int = Field(foreign_key="staff.id")
    answered_at: datetime = _ts()


class PractitionerGrade(SQLModel, table=True):
    """The practitioner's own grade for one standard of their collaborative audit, given before
    they see the auditor's; kept as given (submitted once), shown beside the auditor's."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "audit_id", "standard"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id", index=True)
    practitioner_id: int = Field(foreign_key="staff.id")
    standard: str = Field(max_length=16)
    grade: str = Field(max_length=24)
    created_at: datetime = _ts()


class Exemplar(SQLModel, table=True):
    """A strength an auditor saw, written up with no case details as good practice for a theme;
    shown with the theme's learning once the QA team approves it. It outlives its audit (the
    audit is unlinked when retention removes it)."""

    __table_args__ = (sa.Index("ix_exemplar_tenant_theme_state", "tenant_id", "theme", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int | None = Field(default=None, foreign_key="audit.id", index=True)
    standard: str = Field(max_length=16)
    # The theme's key in the themes file.
    theme: str = Field(max_length=60)
    title: str = Field(max_length=80)
    text: str = Field(max_length=1000)
    # suggested → approved or declined (bot.rules.exemplars).
    state: str = Field(default="suggested", max_length=16)
    suggested_by: int = Field(foreign_key="staff.id")
    suggested_at: datetime = _ts()
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = _ts(nullable=True)
    updated_at: datetime | None = _changed()


class ModerationSample(SQLModel, table=True):
    """One month's reproducible moderation sample: the seed and the candidates' fingerprint."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "month"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    month: str = Field(max_length=7)
    seed: str = Field(max_length=64)
    candidate_fingerprint: str = Field(max_length=64)
    rate_percent: int = Field(default=10)
    created_at: datetime = _ts()


class ActionMeeting(SQLModel, table=True):
    """The multi-disciplinary action meeting held after an inadequate audit."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "audit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id")
    held_on: date
    # Roles and names of those present (staff, not children or family members).
    attendees: str = Field(max_length=2000)
    recorded_by: int = Field(foreign_key="staff.id")
    recorded_at: datetime = _ts()


class Action(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_action_tenant_owner_state", "tenant_id", "owner_id", "state", "due_on"),
        sa.Index("ix_action_tenant_state_due", "tenant_id", "state", "due_on"),
        # Every column the digest's action counts read, so they scan this index rather than the
        # rows with their long texts (storage.digest.actions: 0.93 s to 0.41 s over 300k).
        sa.Index(
            "ix_action_digest",
            "tenant_id",
            "owner_id",
            "due_on",
            "created_at",
            "done_at",
            "cancelled_at",
            "state",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int | None = Field(default=None, foreign_key="audit.id", index=True)
    # audit, meeting (from an action meeting), action_meeting or child_visit (inadequate response)
    source: str = Field(default="audit", max_length=24)
    what: str = Field(max_length=2000)
    measure: str = Field(max_length=2000)
    owner_id: int = Field(foreign_key="staff.id")
    standard: str | None = Field(default=None, max_length=24)
    due_on: date
    state: str = Field(default="open", max_length=16)
    snoozed_until: date | None = None
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = _ts()
    done_at: datetime | None = _ts(nullable=True)
    done_note: str | None = Field(default=None, max_length=2000)
    confirmed_at: datetime | None = _ts(nullable=True)
    confirmed_by: int | None = Field(default=None, foreign_key="staff.id")
    cancelled_at: datetime | None = _ts(nullable=True)
    updated_at: datetime | None = _changed()


class ExtensionRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    action_id: int = Field(foreign_key="action.id", index=True)
    requested_by: int = Field(foreign_key="staff.id")
    old_due_on: date
    new_due_on: date
    reason: str = Field(max_length=2000)
    state: str = Field(default="pending", max_length=16)
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class Feedback(SQLModel, table=True):
    """The practitioner's feedback on one audit; its answers live in versions."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "audit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    audit_id: int = Field(foreign_key="audit.id")
    practitioner_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime = _ts()


class FeedbackVersion(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("feedback_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    feedback_id: int = Field(foreign_key="feedback.id", index=True)
    version: int
    involved: int
    helped_see_good: int
    understand_grade: int
    actions_clear: int
    worked_well: str | None = Field(default=None, max_length=2000)
    could_be_better: str | None = Field(default=None, max_length=2000)
    submitted_at: datetime = _ts()


class Briefing(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    title: str = Field(max_length=200)
    read: str = Field(max_length=6000)
    key_messages: list[str] | None = _json()
    link: str | None = Field(default=None, max_length=1000)
    author_id: int | None = Field(default=None, foreign_key="staff.id")
    state: str = Field(default="draft", max_length=16)
    created_at: datetime = _ts()
    published_at: datetime | None = _ts(nullable=True)


class JobRun(SQLModel, table=True):
    """A claimed (job, period): the unique key makes a run happen once across replicas."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "job", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    job: str = Field(max_length=64)
    period: str = Field(max_length=32)
    state: str = Field(default="running", max_length=16)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    detail: str | None = Field(default=None, max_length=2000)


class ConversationRef(SQLModel, table=True):
    """Where to reach a person or a channel: a stored Bot Framework conversation reference."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "conversation_id"),
        sa.Index("ix_convref_tenant_staff_type", "tenant_id", "staff_id", "conversation_type"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    conversation_id: str = Field(max_length=400)
    conversation_type: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    aad_object_id: str | None = Field(default=None, max_length=64)
    team_aad_group_id: str | None = Field(default=None, max_length=64)
    channel_name: str | None = Field(default=None, max_length=200)
    service_url: str = Field(max_length=400)
    reference: dict[str, Any] = Field(sa_type=sa.JSON)
    updated_at: datetime = _ts()


class ChannelUse(SQLModel, table=True):
    """A channel chosen for something the bot posts: "qa_digests" or "briefings"."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "conversation_ref_id", "purpose"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    conversation_ref_id: int = Field(foreign_key="conversationref.id")
    purpose: str = Field(max_length=32)
    chosen_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = _ts()


class Delivery(SQLModel, table=True):
    """The outbox: one proactive message, sent at most once."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "dedupe_key"),
        # The sender's claim reads due ids in this order straight off the index (no sort of
        # every due row, which on PostgreSQL spilled to disk with a fan-out's cards in it).
        sa.Index("ix_delivery_state_next", "state", "next_attempt_at", "id"),
        sa.Index("ix_delivery_failed", "tenant_id", "failed_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    dedupe_key: str = Field(max_length=300)
    kind: str = Field(max_length=48)
    recipient_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    conversation_ref_id: int = Field(foreign_key="conversationref.id")
    summary: str = Field(max_length=200)
    card: dict[str, Any] = Field(sa_type=sa.JSON)
    # What the card shows (e.g. "action:12"), so a card already sent can be updated in place.
    subjects: list[str] | None = _json()
    # Set on an update: the posted card (activity id) this delivery replaces in place.
    replaces_activity_id: str | None = Field(default=None, max_length=200)
    state: str = Field(default="pending", max_length=16)
    ambiguous: bool = False
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = _ts(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64)
    activity_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    # When it was given up on (state "failed"): the daily delivery alert counts these.
    failed_at: datetime | None = _ts(nullable=True)


class SendRate(SQLModel, table=True):
    """Teams' send rate is per app and tenant: on PostgreSQL every replica's sender draws its
    tokens from this one row (a token bucket updated atomically), so N replicas share one rate."""

    app_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(primary_key=True, max_length=64)
    tokens: float
    at: datetime = _ts()


class DeliveryAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    attempt: int
    status: int | None = None
    error: str | None = Field(default=None, max_length=500)
    at: datetime = _ts()


class SentCard(SQLModel, table=True):
    """A card already posted about a subject (e.g. action 12), so it can be updated in place."""

    __table_args__ = (sa.Index("ix_sentcard_subject", "tenant_id", "subject"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    subject: str = Field(max_length=100)
    conversation_ref_id: int = Field(foreign_key="conversationref.id")
    activity_id: str = Field(max_length=200)
    kind: str = Field(max_length=48)
    sent_at: datetime = _ts()


class InboundActivity(SQLModel, table=True):
    """Activity ids already handled, so a re-delivered activity takes effect once. Teams' ids are
    unique only within a conversation (a message's id is its timestamp)."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "conversation_id", "activity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    conversation_id: str = Field(max_length=512)
    activity_id: str = Field(max_length=200)
    received_at: datetime = _ts(index=True)
    # The invoke response we gave, replayed to a repeat.
    response: dict[str, Any] | None = _json()


class AuditLog(SQLModel, table=True):
    """Every state change: who, what, when, before and after. Append-only in the database
    (migration 0007's triggers): no row is changed, and none removed but with its whole tenant
    (see TenantErasure)."""

    __table_args__ = (sa.Index("ix_auditlog_tenant_entity", "tenant_id", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = _tenant()
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    event: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    at: datetime = _ts()


class TenantErasure(SQLModel, table=True):
    """A tenant being erased in the current transaction (the demo council rebuilt): the one time
    the audit log's triggers let its rows go. The row goes with the tenant's others."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    started_at: datetime = _ts()
