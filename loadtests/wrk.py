"""Running wrk against a loopback URL and reading its results.

``report.lua`` makes wrk print its summary as one JSON line; the text wrk prints with
``--latency`` is parsed as well, as a cross-check and as the fallback when the line is missing.
wrk's own CPU time comes from the kernel's accounting of the finished process (``wait4``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPORT_LUA = HERE / "report.lua"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    pass


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: dict[str, int]
    bytes_per_request: float
    wrk_cpu_s: float
    in_flight: int = -1  # requests unanswered when the run ended (-1: not counted)
    command: list[str] = field(default_factory=list)
    output: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return "not installed"
    done = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return (done.stdout + done.stderr).splitlines()[0].strip()


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise WrkError(f"refusing to load {host!r}: benchmarks only target loopback")


def run(
    url: str,
    *,
    connections: int,
    threads: int,
    duration: int,
    script: Path = REPORT_LUA,
    script_args: tuple[str, ...] = (),
    timeout_s: int = 10,
) -> WrkResult:
    """Run wrk once and return its figures; wrk stops by itself after ``duration`` seconds."""
    _check_loopback(url)
    path = wrk_path()
    if not path:
        raise WrkError("wrk is not installed (Debian: apt-get install -y wrk)")
    command = [
        path, f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s",
        "--latency", "-s", str(script), url,
    ]  # fmt: skip
    if script_args:
        command += ["--", *script_args]
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        # A watchdog, should wrk hang: it is killed well after its own deadline.
        watchdog = threading.Timer(duration + 60, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise WrkError(f"wrk exited with {proc.returncode}:\n{text}")
    result = parse(text)
    result.wrk_cpu_s = usage.ru_utime + usage.ru_stime
    result.command = command
    return result


def parse(text: str) -> WrkResult:
    """Figures from wrk's output: the WRK_JSON line when present, else the --latency text."""
    for line in text.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line.removeprefix("WRK_JSON "))
            duration = data["duration_us"] / 1e6
            requests = int(data["requests"])
            return WrkResult(
                requests=requests,
                duration_s=duration,
                rps=requests / duration if duration else 0.0,
                mean_ms=data["mean_us"] / 1000,
                p50_ms=data["p50_us"] / 1000,
                p90_ms=data["p90_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                non2xx=int(data["non2xx"]),
                socket_errors={
                    k: int(data[f"{k}_errors" if k != "timeout" else "timeouts"])
                    for k in ("connect", "read", "write", "timeout")
                },
                bytes_per_request=data["bytes"] / requests if requests else 0.0,
                wrk_cpu_s=0.0,
                in_flight=int(data.get("in_flight", -1)),
                output=text,
            )
    return _parse_text(text)


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise WrkError(f"cannot read a latency from {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def _parse_text(text: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    if not rps or not total:
        raise WrkError(f"cannot read wrk's output:\n{text}")
    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", text, re.M)}
    mean_max = re.search(r"Latency\s+(\S+)\s+\S+\s+(\S+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    nan = float("nan")
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2) + total.group(3)) / 1000,
        rps=float(rps.group(1)),
        mean_ms=_ms(mean_max.group(1)) if mean_max else nan,
        p50_ms=percentiles.get(50, nan),
        p90_ms=percentiles.get(90, nan),
        p95_ms=nan,  # wrk's text gives 50/75/90/99 only
        p99_ms=percentiles.get(99, nan),
        max_ms=_ms(mean_max.group(2)) if mean_max else nan,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0},
        bytes_per_request=nan,
        wrk_cpu_s=0.0,
        output=text,
    )
