"""Every example of the official SDK's documentation, run as written.

Each example runs twice against the sandbox: with ``client = missionlab.Client(...)``
and with the official ``telnyx`` SDK (strict response validation on, so every
answer must parse). Before each example the sandbox holds objects whose ids are
the examples' placeholders, so the examples' ids resolve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import telnyx

import missionlab
from missionlab.sandbox import Sandbox

EXAMPLES_FILE = Path(__file__).parent / "data" / "sdk-examples-python.md"
SHARED_FILE = Path(__file__).parents[2] / "shared" / "reference" / "sdk-examples-python.md"
PLACEHOLDER = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def load_examples() -> list[tuple[str, str]]:
    text = EXAMPLES_FILE.read_text()
    examples = []
    for match in re.finditer(r"^## (.+?)\n(.*?)```python\n(.*?)```", text, re.S | re.M):
        title, code = match.group(1), match.group(3)
        if title not in ("Installation", "Setup"):
            examples.append((title, code))
    return examples


EXAMPLES = load_examples()


def test_examples_file_is_complete() -> None:
    assert len(EXAMPLES) == 26  # every "## ..." section with a python block
    if SHARED_FILE.exists():  # our copy must match the reference it was taken from
        assert EXAMPLES_FILE.read_text() == SHARED_FILE.read_text()


@pytest.fixture(scope="module")
def example_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def seed_placeholders(sandbox: Sandbox, *, with_plan: bool, status: str = "running") -> None:
    """The examples' placeholder ids, as real objects in a fresh state."""
    store = sandbox.store
    assert store is not None
    if store.count("missions"):
        for (mission_id,) in store._all("SELECT mission_id FROM missions", ()):
            store.delete_mission(mission_id)
    store.create_mission({"name": "Example mission"}, mission_id=PLACEHOLDER)
    store.create_run(PLACEHOLDER, {}, run_id=PLACEHOLDER)
    store.update_run(PLACEHOLDER, PLACEHOLDER, {"status": status})
    if with_plan:
        store.add_steps(
            PLACEHOLDER,
            PLACEHOLDER,
            [{"step_id": "step_id", "description": "Example", "sequence": 0}],
            initial=True,
        )
    store.record_event(
        PLACEHOLDER,
        {"event_id": "event_id", "run_id": PLACEHOLDER, "type": "message", "summary": "Example event"},
    )
    store.link_agent(PLACEHOLDER, PLACEHOLDER, "telnyx_agent_id")


def make_client(kind: str, sandbox: Sandbox) -> Any:
    if kind == "missionlab":
        return missionlab.Client(api_key=sandbox.token, base_url=sandbox.url)
    return telnyx.Telnyx(api_key=sandbox.token, base_url=sandbox.url, _strict_response_validation=True)


@pytest.mark.parametrize("kind", ["missionlab", "telnyx"])
@pytest.mark.parametrize("title,code", EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_example_runs_unchanged(kind: str, title: str, code: str, example_sandbox: Sandbox) -> None:
    seed_placeholders(
        example_sandbox,
        with_plan=title not in ("Create initial plan", "Add step(s) to plan"),
        status="paused" if title == "Resume run" else "running",
    )
    if title == "Clone mission":
        # The example passes the literal "mission_id": a plain string id that names no mission
        # (the document types it as a string, so the sandbox answers 404; see the test below).
        code = code.replace('"mission_id"', f'"{PLACEHOLDER}"')
    printed: list[Any] = []
    client = make_client(kind, example_sandbox)
    exec(code, {"client": client, "print": printed.append})
    if "print(" in code:
        assert printed and printed[0] is not None
    if title == "Delete mission":
        assert example_sandbox.store is not None
        assert example_sandbox.store.count("missions") == 0


def test_clone_example_literal_id_is_sent_like_the_sdk_does(example_sandbox: Sandbox) -> None:
    """The published document makes clone's ``mission_id`` a plain string, not a UUID: missionlab
    sends the example's literal "mission_id" as the official SDK does, and both get the
    sandbox's error for it (no mission has that id)."""
    seed_placeholders(example_sandbox, with_plan=False)
    sent: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url.path)]})
    client = missionlab.Client(api_key=example_sandbox.token, base_url=example_sandbox.url, http_client=http)
    with pytest.raises(missionlab.APIStatusError) as ours:
        client.ai.missions.clone_mission("mission_id")
    official = make_client("telnyx", example_sandbox)
    with pytest.raises(telnyx.APIStatusError) as theirs:
        official.ai.missions.clone_mission("mission_id")
    assert sent == ["/v2/ai/missions/mission_id/clone"]
    assert ours.value.status_code == theirs.value.status_code
    assert ours.value.status_code in (404, 422)
    assert example_sandbox.store is not None and example_sandbox.store.count("missions") == 1


def test_results_have_the_sdk_attribute_names(example_sandbox: Sandbox) -> None:
    seed_placeholders(example_sandbox, with_plan=True)
    ours = make_client("missionlab", example_sandbox)
    theirs = make_client("telnyx", example_sandbox)
    # Either client: missionlab's or the official (untyped) SDK's.
    pairs: list[Callable[[Any], Any]] = [
        (lambda c: c.ai.missions.retrieve(PLACEHOLDER).data),
        (lambda c: c.ai.missions.runs.retrieve(PLACEHOLDER, mission_id=PLACEHOLDER).data),
        (lambda c: c.ai.missions.runs.plan.retrieve(PLACEHOLDER, mission_id=PLACEHOLDER).data[0]),
        (lambda c: c.ai.missions.runs.events.list(PLACEHOLDER, mission_id=PLACEHOLDER).data[0]),
        (lambda c: c.ai.missions.runs.telnyx_agents.list(PLACEHOLDER, mission_id=PLACEHOLDER).data[0]),
    ]
    for get in pairs:
        mine, official = get(ours), get(theirs)
        official_fields = set(type(official).model_fields)
        assert official_fields <= set(mine.model_dump()) | set(type(mine).model_fields)
        for name in official_fields:
            value = getattr(official, name)
            assert str(getattr(mine, name)) == str(value) or getattr(mine, name) == value, name
