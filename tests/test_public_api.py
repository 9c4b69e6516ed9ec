"""The public surface: what __all__ lists exists, and importing stays light."""

from __future__ import annotations

import subprocess
import sys

import httpx

import missionlab


def test_all_names_exist() -> None:
    for name in missionlab.__all__:
        assert getattr(missionlab, name) is not None, name
    assert sorted(dir(missionlab)) == sorted(missionlab.__all__)


def test_import_and_client_do_not_import_heavy_dependencies() -> None:
    code = (
        "import sys, missionlab\n"
        "missionlab.Client(api_key='k')\n"
        "missionlab.AsyncClient(api_key='k')\n"
        "heavy = {'pandas', 'plotly', 'ipywidgets', 'fastapi', 'uvicorn', 'starlette', 'tqdm'}\n"
        "loaded = sorted(heavy & {m.split('.')[0] for m in sys.modules})\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_console_script_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "missionlab.cli", "sandbox", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--port", "--db", "--demo", "--token", "--speed"):
        assert flag in out.stdout


def test_import_alone_loads_no_client_dependencies() -> None:
    """Issue 12: ``import missionlab`` loads httpx, pydantic and the models when first used."""
    code = (
        "import sys, missionlab\n"
        "loaded = {m for m in sys.modules if '.' not in m}\n"
        "print(','.join(sorted(loaded & {'httpx', 'httpcore', 'pydantic', 'asyncio', 'pandas'})))\n"
        "missionlab.Client(api_key='k', base_url='http://127.0.0.1:9/v2')\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(loaded & {'asyncio', 'rich', 'click', 'pygments'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["", ""]


def test_a_loopback_client_builds_no_ssl_context() -> None:
    """Issue 12: every client built an SSL context (~20 ms), even for http:// URLs."""
    code = (
        "import ssl\n"
        "made = []\n"
        "real = ssl.create_default_context\n"
        "def counting(*args, **kwargs):\n"
        "    made.append(1)\n"
        "    return real(*args, **kwargs)\n"
        "ssl.create_default_context = counting\n"
        "import missionlab\n"
        "missionlab.Client(base_url='http://127.0.0.1:9/v2')\n"
        "missionlab.AsyncClient(base_url='http://127.0.0.1:9/v2')\n"
        "print(len(made))\n"
        "missionlab.Client(api_key='k', base_url='https://api.telnyx.com/v2')\n"
        "print(len(made))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "1"]


def test_the_client_keeps_no_cookies() -> None:
    """The API sets none; httpx's jar took a lock on every answer, serialising fetch_all's threads."""
    sent: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        return httpx.Response(
            200, json={"data": [], "meta": None}, headers={"set-cookie": "session=abc; Path=/"}
        )

    client = missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))
    client.missions.list()
    client.missions.list()
    assert sent == [None, None] and len(client._http.cookies) == 0


def test_frames_are_made_through_the_registered_converter(client: missionlab.Client) -> None:
    """The client layer imports no pandas: ``to_frame`` goes through ``missionlab/__init__``'s hook."""
    page = client.missions.list(page_size=3)
    frame = page.to_frame()
    assert list(frame["mission_id"]) == [m.mission_id for m in page.data]
    assert page.data[0].to_frame()["mission_id"].iloc[0] == page.data[0].mission_id
