"""The API's wire format, which the sandbox shares with the client (not its code): each object's
fields (:mod:`.fields`) and the run capsule, a file of such objects (:mod:`.capsule`). Standard
library only, below the client and the sandbox alike."""
