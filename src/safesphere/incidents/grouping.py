"""What a repeated report from the same source does to the open incident it repeats. Pure.

A camera that keeps seeing the same threat reports it again and again; paging police and every contact
for each frame would bury the case under copies. Every report stays an incident of its own (its own level,
facts and protocol record) *grouped into* the open incident. A repeat of the same or a lower level, with
nothing new in it, *attaches* (counted, on the timeline). A repeat that makes things worse *escalates* the
open incident: its level and facts become the worse of the two and only the protocol steps not taken yet
run (police are paged for a HIGH that became CRITICAL, armed-threat escalation runs once a weapon shows).
The repeat's own record says, step by step, which ran for the open incident and which were not repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from safesphere.incidents.models import ACTION_EXECUTED, ACTION_NOT_REPEATED, ReportGrouping
from safesphere.incidents.protocol import IncidentFacts, Protocol, ResponsePlan, ThreatLevel, plan_response

LEVEL_RANK = {level: rank for rank, level in enumerate(ThreatLevel)}
"""LOW < MEDIUM < HIGH < CRITICAL."""


def worse_facts(current: IncidentFacts, repeat: IncidentFacts) -> IncidentFacts:
    """The incident as a repeat leaves it: the worse level, score and head count; a weapon once seen stays
    seen; a repeat of a higher level describes what is happening now."""
    raised = LEVEL_RANK[repeat.threat_level] > LEVEL_RANK[current.threat_level]
    return replace(
        current,
        threat_level=repeat.threat_level if raised else current.threat_level,
        threat_score=max(current.threat_score, repeat.threat_score),
        people_count=max(current.people_count, repeat.people_count),
        weapon_detected=current.weapon_detected or repeat.weapon_detected,
        weapon_types=current.weapon_types
        + tuple(w for w in dict.fromkeys(repeat.weapon_types) if w not in current.weapon_types),
        behavior_summary=repeat.behavior_summary if raised else current.behavior_summary,
        is_critical=current.is_critical or repeat.is_critical,
    )


@dataclass(frozen=True)
class Regrouped:
    """The open incident's new facts, whether the repeat attached or escalated, and the protocol steps
    (with their alerts) that still have to run: empty when it attached."""

    grouping: ReportGrouping
    facts: IncidentFacts
    plan: ResponsePlan


def regroup(
    protocol: Protocol, current: IncidentFacts, repeat: IncidentFacts, steps_taken: frozenset[str]
) -> Regrouped:
    """Decide what ``repeat`` does to the open incident described by ``current`` whose protocol has
    already taken ``steps_taken`` (action types)."""
    facts = worse_facts(current, repeat)
    full = plan_response(protocol, facts)
    new_steps = tuple(step for step in full.actions if step.action_type not in steps_taken)
    raised = LEVEL_RANK[facts.threat_level] > LEVEL_RANK[current.threat_level]
    grouping = ReportGrouping.escalated if raised or new_steps else ReportGrouping.attached
    return Regrouped(grouping=grouping, facts=facts, plan=replace(full, actions=new_steps))


@dataclass(frozen=True)
class RepeatStep:
    """One line of a grouped report's own protocol record."""

    action_type: str
    description: str
    status: str
    result: str


def repeat_record(
    *, own: ResponsePlan, case_id: str, case_level: ThreatLevel, taken: frozenset[str], ran: Mapping[str, str]
) -> list[RepeatStep]:
    """The grouped report's record of its own level's steps, plus any step it made the open incident
    ``case_id`` run: ``executed`` when it ran now for the open incident (``ran``: each step's result
    there), ``not_repeated`` with the reason when the open incident already took it or its protocol
    (``case_level``) covers the report."""
    steps = []
    for step in own.actions:
        if step.action_type in ran:
            status, result = ACTION_EXECUTED, f"run for open incident {case_id}: {ran[step.action_type]}"
        elif step.action_type in taken:
            status, result = ACTION_NOT_REPEATED, f"not repeated: open incident {case_id} already took it"
        else:
            status, result = (
                ACTION_NOT_REPEATED,
                f"not repeated: covered by open incident {case_id} ({case_level.value} protocol)",
            )
        steps.append(RepeatStep(step.action_type, step.description, status, result))
    own_types = {step.action_type for step in own.actions}
    steps.extend(
        RepeatStep(action_type, f"Run for open incident {case_id}", ACTION_EXECUTED,
                   f"run for open incident {case_id}: {result}")
        for action_type, result in ran.items()
        if action_type not in own_types
    )  # fmt: skip
    return steps
