"""The pure rules of grouping repeated reports: the worse of two observations, and which protocol steps
a repeat still has to run (the window is a query: tests/notify/test_grouping.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from safesphere.incidents.grouping import regroup, repeat_record, worse_facts
from safesphere.incidents.models import ReportGrouping
from safesphere.incidents.protocol import SAMPLE_FACTS, IncidentFacts, ThreatLevel, plan_response
from safesphere.incidents.protocol_table import DEFAULT_PROTOCOL

HIGH = replace(SAMPLE_FACTS, threat_level=ThreatLevel.HIGH, weapon_detected=False, weapon_types=())
HIGH_STEPS = frozenset(
    {"start_recording", "notify_police", "notify_emergency_contacts", "share_live_location"}
)


def test_the_worse_of_two_observations_keeps_the_first_words_unless_the_level_rose() -> None:
    lower = replace(
        HIGH, threat_level=ThreatLevel.LOW, threat_score=0.1, people_count=9, behavior_summary="calm",
        weapon_detected=True, weapon_types=("knife", "knife"),
    )  # fmt: skip
    merged = worse_facts(HIGH, lower)
    assert merged.threat_level is ThreatLevel.HIGH
    assert merged.behavior_summary == HIGH.behavior_summary
    assert (merged.threat_score, merged.people_count) == (HIGH.threat_score, 9)
    assert (merged.weapon_detected, merged.weapon_types) == (True, ("knife",))
    assert merged.incident_id == HIGH.incident_id

    raised = worse_facts(HIGH, replace(SAMPLE_FACTS, incident_id="other", behavior_summary="now running"))
    assert raised.threat_level is ThreatLevel.CRITICAL
    assert raised.behavior_summary == "now running"
    assert raised.incident_id == HIGH.incident_id  # messages name the open incident


@pytest.mark.parametrize(
    ("repeat", "grouping", "new_steps"),
    [
        (HIGH, ReportGrouping.attached, []),
        (replace(HIGH, threat_level=ThreatLevel.LOW), ReportGrouping.attached, []),
        (replace(HIGH, weapon_detected=True, weapon_types=("gun",)), ReportGrouping.attached, []),
        (
            SAMPLE_FACTS,
            ReportGrouping.escalated,
            ["police_dispatch", "continuous_recording_360", "live_location_streaming", "voice_alerts",
             "safe_route", "notify_all_emergency_contacts", "armed_threat_escalation"],
        ),
    ],
)  # fmt: skip
def test_a_repeat_runs_only_the_steps_its_worse_facts_add(
    repeat: IncidentFacts, grouping: ReportGrouping, new_steps: list[str]
) -> None:
    regrouped = regroup(DEFAULT_PROTOCOL, HIGH, repeat, HIGH_STEPS)
    assert regrouped.grouping is grouping
    assert [step.action_type for step in regrouped.plan.actions] == new_steps


def test_a_weapon_in_a_repeat_of_a_critical_adds_the_armed_threat_step_alone() -> None:
    unarmed = replace(SAMPLE_FACTS, weapon_detected=False, weapon_types=())
    taken = frozenset(
        step.action_type for step in regroup(DEFAULT_PROTOCOL, unarmed, unarmed, frozenset()).plan.actions
    )

    regrouped = regroup(DEFAULT_PROTOCOL, unarmed, SAMPLE_FACTS, taken)

    assert regrouped.grouping is ReportGrouping.escalated
    assert [step.action_type for step in regrouped.plan.actions] == ["armed_threat_escalation"]
    assert [alert.alert_type for alert in regrouped.plan.alerts] == ["armed_threat"]
    assert "gun" in regrouped.plan.alerts[0].message


def test_a_grouped_report_records_each_of_its_steps_as_run_for_the_case_or_not_repeated_and_why() -> None:
    own = plan_response(DEFAULT_PROTOCOL, replace(HIGH, weapon_detected=True, weapon_types=("gun",)))
    critical_steps = frozenset(
        step.action_type for step in plan_response(DEFAULT_PROTOCOL, SAMPLE_FACTS).actions
    )

    record = repeat_record(
        own=own, case_id="INC_A", case_level=ThreatLevel.CRITICAL,
        taken=critical_steps - {"armed_threat_escalation"},
        ran={"armed_threat_escalation": "1 police page queued"},
    )  # fmt: skip

    assert {(step.action_type, step.status) for step in record} == {
        *((step, "not_repeated") for step in HIGH_STEPS),
        ("armed_threat_escalation", "executed"),
    }
    reasons = {step.action_type: step.result for step in record}
    assert reasons["notify_police"] == "not repeated: covered by open incident INC_A (CRITICAL protocol)"
    assert reasons["armed_threat_escalation"] == "run for open incident INC_A: 1 police page queued"
    high_again = repeat_record(
        own=own, case_id="INC_A", case_level=ThreatLevel.HIGH, taken=HIGH_STEPS, ran={}
    )
    assert {step.result for step in high_again} == {"not repeated: open incident INC_A already took it"}
