"""The API's wire format, which the sandbox shares with the client (not its code): each object's
fields (:mod:`.fields`) and the run capsule, a file of such objects (:mod:`.capsule`), read as a
stream (:mod:`.json_stream`) with the cyclic collector paused (:mod:`.collector`). Standard
library only, below the client and the sandbox alike."""
