"""Serve the simulator in the foreground: python -m fwcost.simulator --port 8089 [--rows N]."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.config import SimulatorConfig
from fwcost.simulator.server import SimulatorServer


def _config(args: argparse.Namespace) -> SimulatorConfig:
    config = SimulatorConfig.for_rows(args.rows) if args.rows else SimulatorConfig()
    return replace(
        config,
        latency_seconds=args.latency,
        seed=args.seed,
        spike_day=args.spike_day,
        new_key_day=args.new_key_day,
        home_timezone=args.home_timezone,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fwcost.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--rows", type=int, help="about this many serverless rows a day")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spike-day", type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--new-key-day", type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--home-timezone", default="UTC")
    args = parser.parse_args(argv)
    config = _config(args)
    server = SimulatorServer(args.port, config, [SimulatedAccount(config)])
    print(f"Fireworks billing simulator at {server.sim.base_url}", flush=True)
    print(f"account id: {config.account_id}", flush=True)
    print(
        f"admin API key: {config.api_key}  readonly API key: {config.readonly_api_key}", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
