"""Every write to deliberation, one module per verb family; every name importable from here."""

from .calendar import feed_token_reset, has_feed_token, user_for_feed_token
from .common import CHAIR, COMMITTEE_KINDS, MANAGE, VIEW, check_year, committee_of, is_liaison_of, liaisons_of
from .meetings import (
    HORIZON,
    as_recurrence,
    materialise,
    meeting_cancel,
    meeting_create,
    meeting_of,
    series_create,
    series_exception,
    series_stop,
)
from .proceedings import (
    action_done,
    actions_sweep,
    actions_visible_to,
    agenda_add,
    attendance_code,
    attendance_mark,
    attendance_sign_in,
    is_owner,
    meeting_hold,
    resolution_add,
)
from .roster import (
    RosterResult,
    can_view,
    roster_generate,
    roster_publish,
    swap_decide,
    swap_request,
    swap_withdraw,
    swaps_of,
    terms_of,
    units_of,
)
from .votes import (
    ballot_cast,
    ballot_paper,
    can_vote,
    comment_add,
    comment_hide,
    compute,
    decide_due,
    my_ballot,
    phase,
    proposal_create,
    proposal_of,
    proposal_withdraw,
    recount,
)

__all__ = [
    "ballot_cast", "ballot_paper", "can_vote", "comment_add", "comment_hide", "compute", "decide_due", "my_ballot", "phase",
    "proposal_create", "proposal_of", "proposal_withdraw", "recount",
    "action_done", "actions_sweep", "actions_visible_to", "agenda_add", "attendance_code", "attendance_mark",
    "attendance_sign_in", "is_owner", "meeting_hold", "resolution_add",
    "CHAIR", "COMMITTEE_KINDS", "HORIZON", "MANAGE", "VIEW", "RosterResult", "as_recurrence", "can_view",
    "check_year", "committee_of", "feed_token_reset", "has_feed_token", "is_liaison_of", "liaisons_of", "materialise",
    "meeting_cancel", "meeting_create", "meeting_of", "roster_generate", "roster_publish", "series_create",
    "series_exception", "series_stop", "swap_decide", "swap_request", "swap_withdraw", "swaps_of", "terms_of",
    "units_of", "user_for_feed_token",
]
