"""circuits.bench: how many events per second, and how long one takes.

Run ``python -m circuits.bench -m speed -e 100000`` (see ``--help``). The
benchmarks use the public API only (Manager, BaseComponent, Event,
handler), so they measure what an application gets.
"""

from .runner import BenchResult, main, parse_args, run_latency, run_speed

__all__ = ["BenchResult", "main", "parse_args", "run_latency", "run_speed"]
