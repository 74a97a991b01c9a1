"""The names a card and the code that answers it share, written once.

A card's button sends `{"action": <CardVerb>, ...}` and the feature that answers it is keyed by the
same member, so a typo is a type error rather than a dead button. A posted card is kept under its
`CardKind`, and an in-place update finds it by the subjects it shows ("action:12"). Inputs that
repeat on one card (a note per action) are named `<input>_<item>` by `item_input`, on both sides.

"Action" means a SMART action only; what a button does is its verb.
"""

from __future__ import annotations

from enum import StrEnum

from bot.rules.permissions import Verb as ActionVerb


class CardVerb(StrEnum):
    """What a button asks for: the card's data["action"] and Action.Execute's verb."""

    # Lists, page by page.
    MY_ACTIONS_PAGE = "my_actions_page"
    MY_AUDITS_PAGE = "my_audits_page"
    TEAM_PAGE = "team_page"
    UNREACHABLE_PAGE = "unreachable_page"
    INADEQUATE_PAGE = "inadequate_page"
    # SMART actions: what the permission rules know a person may do to one.
    MARK_DONE = ActionVerb.MARK_DONE.value
    SNOOZE = ActionVerb.SNOOZE.value
    REQUEST_EXTENSION = ActionVerb.REQUEST_EXTENSION.value
    DECIDE_EXTENSION = ActionVerb.DECIDE_EXTENSION.value
    CONFIRM_DONE = ActionVerb.CONFIRM_DONE.value
    REOPEN = ActionVerb.REOPEN.value
    # Allocation.
    CREATE_AUDIT = "create_audit"
    DECLINE_AUDIT = "decline_audit"
    REASSIGN_AUDIT = "reassign_audit"
    CANCEL_AUDIT = "cancel_audit"
    # Grading.
    OPEN_GRADING = "open_grading"
    SAVE_GRADES = "save_grades"
    OPEN_TEMPLATE = "open_template"
    SAVE_TEMPLATE = "save_template"
    ADD_ACTION = "add_action"
    COMPLETE_AUDIT = "complete_audit"
    # The practitioner's own view of a collaborative audit, before they see the auditor's grades.
    OPEN_OWN_VIEW = "open_own_view"
    SUBMIT_OWN_VIEW = "submit_own_view"
    # Exemplars: an auditor suggests one from a strength; the QA team approves or declines it.
    SUGGEST_EXEMPLAR = "suggest_exemplar"
    DECIDE_EXEMPLAR = "decide_exemplar"
    # The response to an inadequate audit.
    MEETING_HELD = "meeting_held"
    VISIT_DONE = "visit_done"
    # Practitioner feedback.
    GIVE_FEEDBACK = "give_feedback"
    SUBMIT_FEEDBACK = "submit_feedback"
    EDIT_FEEDBACK = "edit_feedback"
    # Moderation: the moderator's own grades first (blind), then the grades agreed.
    MODERATE_AUDIT = "moderate_audit"
    AGREE_GRADES = "agree_grades"
    # Calibration: an auditor grades QA's exercise.
    GRADE_CALIBRATION = "grade_calibration"
    # Channels.
    USE_CHANNEL = "use_channel"
    # People who leave: their manager passes their actions on.
    PASS_ON_ACTION = "pass_on_action"
    # Best-practice briefings.
    NEW_BRIEFING = "new_briefing"
    SAVE_BRIEFING = "save_briefing"
    PREVIEW_BRIEFING = "preview_briefing"
    EDIT_BRIEFING = "edit_briefing"
    SCHEDULE_BRIEFING = "schedule_briefing"
    PUBLISH_BRIEFING = "publish_briefing"


class ListCard(StrEnum):
    """A list card a button was pressed on (the data's "card"), so the answer is that list again."""

    MY_ACTIONS = "my_actions"
    TEAM = "team"


class CardKind(StrEnum):
    """What a posted card is (SentCard.kind): how it is rebuilt when what it shows changes."""

    MY_QA = "my_qa"
    ESCALATION = "escalation"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_DECIDED = "extension_decided"
    CONFIRM_DONE = ActionVerb.CONFIRM_DONE.value
    ACTION_CONFIRMED = "action_confirmed"
    ACTION_REOPENED = "action_reopened"
    ACTION_ASSIGNED = "action_assigned"
    AUDIT_ASSIGNED = "audit_assigned"
    AUDIT_ASSIGNED_COPY = "audit_assigned_copy"
    AUDIT_DECLINED = "audit_declined"
    AUDIT_RESULT = "audit_result"
    EXEMPLAR_REVIEW = "exemplar_review"
    EXEMPLAR_DECIDED = "exemplar_decided"
    FEEDBACK_FORM = "feedback_form"
    INADEQUATE_ALERT = "inadequate_alert"
    CHILD_VISIT_DUE = "child_visit_due"
    MODERATION_REQUEST = "moderation_request"
    MODERATION_OUTCOME = "moderation_outcome"
    CALIBRATION_REQUEST = "calibration_request"
    STEP_GUIDE = "step_guide"
    QA_DIGEST = "qa_digest"
    QA_QUARTERLY = "qa_quarterly"
    BRIEFING = "briefing"
    BRIEFING_PREVIEW = "briefing_preview"
    CASE_ENDED = "case_ended"
    CASE_NEW_WORKER = "case_new_worker"
    LEAVER_ACTIONS = "leaver_actions"
    DELIVERY_ALERT = "delivery_alert"
    # A list a person asked for, kept so it is redrawn when what it lists changes that day.
    MY_ACTIONS = ListCard.MY_ACTIONS.value
    TEAM = ListCard.TEAM.value
    MY_AUDITS = "my_audits"


class Input(StrEnum):
    """An input a card repeats per item (a note per action, an owner per meeting action); the
    payload model's field of the same name takes it back."""

    NOTE = "note"
    VISITED_ON = "visited_on"
    NEW_DUE_ON = "new_due_on"
    REASON = "reason"
    AUDITOR_ID = "auditor_id"
    CANCEL_REASON = "cancel_reason"
    WHAT = "what"
    MEASURE = "measure"
    OWNER = "owner"
    OWNER_EMAIL = "owner_email"
    DUE_ON = "due_on"
    NEW_OWNER = "new_owner"
    # The themes ticked per standard on the grading form (a multi-select each).
    STRENGTH = "strength"
    TO_IMPROVE = "to_improve"
    # An audit template's answer per question (its key).
    ANSWER = "answer"
    # The practitioner's own grade per standard.
    OWN_GRADE = "own_grade"


class Shown(StrEnum):
    """An element a button shows or hides on a card, repeated per item like an input."""

    DESCRIPTOR = "descriptor"


def item_input(name: str, item: object) -> str:
    """The id of input `name` for item `item` on a card that holds several: "note_12"."""
    # str(), not an f-string: formatting a StrEnum member costs ten times as much, on every
    # button of every list card.
    return str.__str__(name) + "_" + str(item)


# --- what a posted card shows, so it is found and rebuilt when that changes ------------------


def action_subject(action_id: int) -> str:
    return f"action:{action_id}"


def audit_subject(audit_id: int) -> str:
    return f"audit:{audit_id}"


def extension_subject(request_id: int) -> str:
    return f"extension:{request_id}"


def page_subject(offset: int) -> str:
    """Which page of a list a posted list card shows."""
    return f"page:{offset}"


def subject_id(subject: str, kind: str) -> int | None:
    """12 from "action:12" when kind is "action"."""
    prefix, _, ident = subject.partition(":")
    return int(ident) if prefix == kind and ident.isdigit() else None


def exemplar_subject(exemplar_id: int) -> str:
    return f"exemplar:{exemplar_id}"


def leaver_subject(staff_id: int) -> str:
    """Whose leaving a card is about (the manager's "pass these on" card)."""
    return f"leaver:{staff_id}"


def feedback_subject(audit_id: int) -> str:
    """What the daily card's "feedback owed" line and the posted feedback form show."""
    return f"feedback:{audit_id}"
