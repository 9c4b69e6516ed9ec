"""The check that places a failed run among the fleet's failure clusters (it runs only
when the engine is given a fleet: ``explain(trace, fleet=history)``).

"Its failure is cluster 3f2a9c1e (step 'Charge card', tool payments.charge: "Refund of
<n> for order <id> declined: <str>"): seen 14 times since Nov 20, new in the last 24 h:
no." A run that did not fail has no finding; a failure no run of the fleet shares is told
as new.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from ._evidence import Evidence, step_name
from .finding import Check, CheckInput, Found

__all__ = ["FLEET_CHECKS"]


def _span(within: timedelta) -> str:
    hours = within.total_seconds() / 3600
    return f"{hours:g} h" if hours < 72 else f"{hours / 24:g} days"


def failure_cluster(given: CheckInput) -> Iterator[Found]:
    """Which failure cluster of the fleet the failed run belongs to, how often and since
    when it was seen, and whether it is new."""
    fleet, sig = given.fleet, given.view.signature
    if fleet is None or sig is None:
        return
    where = []
    if sig.step_id is not None:
        where.append(f"step {step_name(given.view.steps, sig.step_id)}")
    if sig.tool is not None:
        where.append(f"tool {sig.tool}")
    told = f"{', '.join(where)}: " if where else ""
    described = f'({told}"{sig.text[:80]}")' if sig.text else f"({', '.join(where) or 'no error text'})"
    steps = (sig.step_id,) if sig.step_id is not None else ()
    row = fleet.cluster_of(sig)
    if row is None:
        yield Found(
            f"Its failure {described} matches none of the {len(fleet.runs):,} failed runs of the fleet: "
            "it is new.",
            Evidence(steps=steps, values={"cluster": sig.cluster_id, "runs": 0}),
        )
        return
    first, runs = row["first_seen"], int(row["runs"])
    times = "once" if runs == 1 else f"{runs:,} times"
    new = "yes" if row["new"] else "no"
    yield Found(
        f"Its failure is cluster {sig.cluster_id} {described}: seen {times} since "
        f"{first:%b} {first.day}, new in the last {_span(fleet.new_within)}: {new}.",
        Evidence(
            steps=steps,
            start=first,
            end=row["last_seen"],
            values={"cluster": sig.cluster_id, "runs": runs},
        ),
    )


FLEET_CHECKS: tuple[Check, ...] = (
    Check("failure_cluster", "failure_cluster", "warning", 40, failure_cluster, needs=frozenset({"fleet"})),
)
