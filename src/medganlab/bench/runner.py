"""Run the benchmarks: ``python -m medganlab.bench [names...]`` (what ``make bench`` calls).

Every module in this package with a ``run(out_dir) -> dict`` is a benchmark. Results go to
``build/bench/<name>.json`` (plus any figures the benchmark draws) and a summary is printed.
Benchmarks measure; they never assert a time.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time

from medganlab.paths import build_dir

__all__ = ["available", "main"]


def available() -> list[str]:
    """Names of the benchmark modules."""
    import medganlab.bench as package

    return sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.name not in {"runner", "__main__"} and not m.name.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(
            f"unknown benchmark(s) {unknown}; expected some of: {', '.join(available())}",
            file=sys.stderr,
        )
        return 2
    out = build_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        start = time.perf_counter()
        try:
            result = importlib.import_module(f"medganlab.bench.{name}").run(out)
        except Exception as exc:  # report and go on with the others
            failures += 1
            print(f"benchmark {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        result = {"benchmark": name, "seconds": round(time.perf_counter() - start, 1), **result}
        (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"--> {out / (name + '.json')} ({result['seconds']} s)")
    return 1 if failures else 0
