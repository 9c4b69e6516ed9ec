"""An injection corpus: strings a server could send that must show as text and never run,
for every test of HTML made from server data (trace pages, displays, widgets).

Each payload that would run calls ``alert`` (a browser test fails on any dialog) or leaves
an element a test can look for. ``markup_of(rendered, payload)`` lists what of a payload
reached the markup unescaped.
"""

from __future__ import annotations

import re

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "</script><script>alert(3)</script>",
    "<svg onload=alert(4)>",
    '<a href="javascript:alert(5)">click me</a>',
    "javascript:alert(6)",
    '" onmouseover="alert(7)" data-x="',
    "' onfocus='alert(8)' autofocus='",
    '<iframe src="javascript:alert(9)"></iframe>',
    '<button data-commandlinker-command="terminal:create-new">Open a terminal</button>',
    "<body onload=alert(11)>",
    "<details open ontoggle=alert(12)>",
    "<style>@import 'http://evil.invalid/x.css';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    "{{constructor.constructor('alert(15)')()}}",
    "<input autofocus onfocus=alert(16)>",
    "%3Cscript%3Ealert(17)%3C/script%3E",
    "<b>bold</b><br>%{customdata[0]}",
    "&lt;script&gt;alert(19)&lt;/script&gt;",
    "<video><source onerror=alert(20)></video>",
    '<object data="javascript:alert(21)"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(22)">',
]

# Markup a rendered page must not contain (beyond what it makes itself).
DANGEROUS = [
    "<script>alert",
    "onerror=",
    "onload=",
    "onfocus=",
    "ontoggle=",
    "<iframe",
    "<object",
    "data-commandlinker",
]


def markup_of(rendered: str, payload: str) -> list[str]:
    """The tags or attribute breakers of ``payload`` found unescaped in ``rendered``'s markup
    (a quote inside a script's JSON string is data, not markup: only ``<`` counts there)."""
    found = []
    if "<" in payload and payload in rendered:
        found.append(payload)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", rendered, flags=re.S)
    if payload.startswith(('"', "'")) and payload in markup:
        found.append(payload)
    return found
