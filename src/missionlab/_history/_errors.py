"""What can go wrong with a history folder, as missionlab errors::

MissionlabError
└── HistoryError
    ├── HistoryFormatError      the folder is not a history this version can use as it is
    │                           (damaged, another format, files outside it, another API)
    └── HistorySyncConflictError  another sync of the same folder took over
"""

from __future__ import annotations

from ..client.errors import MissionlabError

__all__ = ["HistoryError", "HistoryFormatError", "HistorySyncConflictError"]


class HistoryError(MissionlabError):
    """Something about a local history folder."""


class HistoryFormatError(HistoryError):
    """The folder holds something this version cannot use as it is: a damaged table,
    another format, a file or link outside the folder, or the history of another API.
    The message says what to do (often ``history.repair()`` then ``history.sync()``)."""


class HistorySyncConflictError(HistoryError):
    """Another sync of the same folder started while this one ran: this one stopped
    (what it had written is kept), the other carries on."""
