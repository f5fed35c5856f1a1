"""The volunteering section of a person's data export (PIPL art. 45)."""

from __future__ import annotations

from .models import DualReport, SignUp, TeamMember

NAME = "volunteering"


def export(person) -> dict:
    return {
        "teams": [{"team": m.team.name, "joined_at": m.joined_at}
                  for m in TeamMember.objects.filter(person=person).select_related("team").order_by("id")],
        "dual_reports": [{"year": r.year, "community": r.community.name, "state": r.state, "offer": r.offer,
                          "submitted_at": r.submitted_at}
                         for r in DualReport.objects.filter(person=person).select_related("community").order_by("id")],
        "activities": [{"activity": s.activity.title, "state": s.state, "queued_at": s.queued_at,
                        "checked_in_at": s.checked_in_at, "checked_out_at": s.checked_out_at,
                        "hours_credited": s.hours_credited}
                       for s in SignUp.objects.filter(person=person).select_related("activity").order_by("id")],
    }
