"""The ``missionlab`` command: ``missionlab sandbox serve`` and friends."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="missionlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="the local Missions API")
    sandbox_commands = sandbox.add_subparsers(dest="action", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox in the foreground")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--db", default=":memory:", help="SQLite file to keep data in across restarts (default: in memory)"
    )
    serve.add_argument("--demo", action="store_true", help="seed demo history into an empty db")
    serve.add_argument(
        "--token",
        help="the token requests must carry, as 'Authorization: Bearer TOKEN' (default: random);"
        " write --token=TOKEN for a token starting with '-'",
    )
    serve.add_argument(
        "--no-token",
        action="store_true",
        help="accept any token (any program on this machine can then use the sandbox)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (default: 127.0.0.1, localhost, [::1] only)",
    )
    serve.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second for managed runs (default 1)",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed for demo data and simulation")
    serve.add_argument(
        "--load",
        action="append",
        default=[],
        metavar="CAPSULE",
        help=(
            "a run capsule (trace.save('run.json')) to serve under its own ids, or a folder of them "
            "(a dataset: missionlab.dataset(runs, 'DIR')); repeatable"
        ),
    )
    serve.add_argument(
        "--faults",
        type=json.loads,
        default=None,
        metavar="JSON",
        help='fault rules, e.g. \'{"rules": [{"route": "*", "error_rate": 0.1}]}\'',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``missionlab`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "sandbox" and args.action == "serve":
        if args.speed <= 0:
            print("missionlab: --speed must be > 0", file=sys.stderr)
            return 2
        if args.no_token and args.token:
            print("missionlab: give --token or --no-token, not both", file=sys.stderr)
            return 2
        from .errors import MissionlabError
        from .sandbox import serve

        try:
            serve(
                host=args.host,
                port=args.port,
                db=args.db,
                demo=args.demo,
                token=args.token,
                no_token=args.no_token,
                allowed_hosts=args.allow_host,
                speed=args.speed,
                seed=args.seed,
                faults=args.faults,
                load=args.load,
            )
        except KeyboardInterrupt:
            pass
        except MissionlabError as error:  # a refused capsule or database: one line, no traceback
            print(f"missionlab: {error}".replace("\n", " "), file=sys.stderr)
            return 1
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
