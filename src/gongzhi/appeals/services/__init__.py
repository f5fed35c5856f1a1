"""Every write to appeals: one function per use case, each the only door to its change.

A transition runs in one transaction: fetch what the actor may see (404 otherwise), look the
(state, action) up in workflow.TABLE (409 naming the allowed actions if absent), check the actor's
relation to the appeal (403), validate the input (400), then compare-and-set
`UPDATE … WHERE id=… AND state=… AND version=…`: zero rows means someone else won (409). The
winner appends a timeline event and an audit entry in the same transaction.

The package splits the writes by verb family, as Zulip splits zerver/actions/: `submit` (checks, the
grid, numbers, one or a batch), `photos` and `photo_add`, `handlers` (who holds a level), `transitions`,
`whistle` (work orders), `deadlines` (what the sweep writes), `reporter` (assisted reporters' data), and
`common`. Every name stays importable from `gongzhi.appeals.services`, as when this was one module;
a test that replaces a function for the package's own callers patches it where they look it up.
"""

from ..permissions import allowed_actions  # noqa: F401  (importable from here before the split)
from .common import (  # noqa: F401
    ADDRESS_LABEL,
    ADDRESS_MAX,
    ASSISTED_SOURCES,
    KEY_RE,
    PHONE_RE,
    PHOTO_MAX_BYTES,
    PHOTO_MAX_COUNT,
    PUBLIC_SOURCES,
    REASON_MAX,
    REDIRECT_MAX,
    SOURCES,
    STAFF_SOURCES,
    STREET_SOURCES,
    TEXT_LABEL,
    TITLE_LABEL,
    URGENCIES,
    _ancestors,
    _labels,
    _serialised,
    _signed_in,
    _text,
    _user_or_none,
    stale_message,
)
from .deadlines import (  # noqa: F401
    EscalateOutcome,
    _appeal_step_hours,
    _due_check,
    _due_soon_window,
    _owner_above,
    _same_time,
    _sweep_note,
    _write_warning,
    appeal_auto_close,
    appeal_escalate,
    appeal_step,
    appeal_warn,
    max_step_hours,
    warned,
    work_order_step,
    work_order_warn,
)
from .handlers import (  # noqa: F401
    _last_mover,
    _owner_below,
    level_holder,
    on_duty_owner,
    on_duty_owners,
)
from .photo_add import (  # noqa: F401
    appeal_photo_add,
    photo_get_for,
)
from .photos import (  # noqa: F401
    CheckedPhoto,
    _check_photos,
    _sniffed_photo,
    _staged_checked,
    _store_photos,
    check_photo,
)
from .reporter import (  # noqa: F401
    appeal_reporter_unmask,
)
from .submit import (  # noqa: F401
    Lookups,
    Submission,
    _category,
    _in_grid,
    _locate,
    _next_numbers,
    _with_photos,
    appeal_submit,
    bad_category,
    check_fields,
    check_key,
    check_point_in_grid,
    check_submission,
    check_submitter,
    replay_submit,
    title_of,
    write_submissions,
)
from .transitions import (  # noqa: F401
    _ACTION_PARAMS,
    TRANSITION_SERVICES,
    Change,
    _bool,
    _fresh,
    _pick,
    _respond_deadline,
    _stale,
    _transition,
    _version,
    appeal_accept,
    appeal_act,
    appeal_close,
    appeal_hand_back,
    appeal_hand_on,
    appeal_merge,
    appeal_rate,
    appeal_reject,
    appeal_resolve,
)
from .whistle import (  # noqa: F401
    _SUMMONS_PARAMS,
    SUMMONS_MAX,
    SUMMONS_SERVICES,
    _check_work_order_photos,
    _deadline,
    _item,
    _local,
    _organization_ids,
    _pick_summons,
    _score,
    _settle,
    _summons_labels,
    _summons_transition,
    _work_order_stale,
    summons_act,
    summons_cancel,
    summons_rate,
    summons_report,
    summons_resolve,
    summons_return,
    whistle_blow,
    work_order_stale_message,
)
