"""Footprint: installed size, start to first response, and idle memory of one app process.

    python bench/footprint.py [--runs 5] [--database-url URL] [--skip-venv]

- **installed size**: a fresh virtual environment (``python -m venv``) into which pip
  installs this project with its default dependencies, measured with its pip and
  setuptools and without them (what ``venv --without-pip`` would leave);
- **start to first response**: from spawning ``annotator serve --workers 1`` (gunicorn)
  and ``annotator run`` (Werkzeug) to the first ``200`` of ``GET /login``;
- **idle memory**: resident set (RSS) and proportional set (PSS) of the gunicorn worker
  and its master after a login, an annotation page and a save, then 2 s of rest.

Peers measured the same way (DESIGN.md): Label Studio 994 MB / 2.9 s / 265 MB, doccano
710 MB / 3.2 s / 1,049 MB, Potato 469 MB / 2.4 s / 178 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.annotate import free_port  # noqa: E402
from bench.report import add_report_option, write_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-footprint-1"
TARGETS = {"venv_mb": 120.0, "start_s": 1.0, "idle_mb": 80.0}


def tree_bytes(path: Path) -> int:
    """Bytes of every regular file under ``path`` (what ``du -b`` counts, without dirs)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def venv_size() -> dict[str, float]:
    """MB of a fresh venv with the app installed, with and without pip/setuptools."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)]
        subprocess.run(pip, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = tree_bytes(venv)
        [site] = (venv / "lib").glob("python3*/site-packages")
        tooling = sum(
            tree_bytes(p) if p.is_dir() else p.stat().st_size
            for p in site.iterdir()
            if re.match(r"(pip|setuptools|pkg_resources|_distutils_hack)\b", p.name)
        )
        packages = len(list(site.glob("*.dist-info"))) - 3  # minus pip, setuptools, app
        biggest = sorted(
            ((tree_bytes(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True
        )[:5]
    return {
        "venv_mb": total / 1e6,
        "venv_without_pip_mb": (total - tooling) / 1e6,
        "dependencies": float(packages),
        **{f"package {name} MB": size / 1e6 for size, name in biggest},
    }


def prepare(workdir: Path, url: str | None) -> dict[str, str]:
    """An instance folder with a database holding a user and a small article."""
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(workdir / "instance")}
    if url:
        env["ANNOTATOR_DATABASE_URL"] = url
    run = [str(Path(sys.executable).with_name("annotator"))]
    subprocess.run(
        [*run, "users", "add", "bench", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    article = workdir / "article.txt"
    article.write_text(
        "A short article\n\n"
        + " ".join(f"Officials said the talks would resume on day {i}." for i in range(50)),
        encoding="utf-8",
    )
    subprocess.run([*run, "import", str(article)], env=env, check=True, capture_output=True)
    return env


def wait_for(url: str, started: float, process: subprocess.Popen[bytes]) -> float:
    """Seconds from ``started`` to the first 200 from ``url``."""
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.005)


def start(env: dict[str, str], command: str) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start ``annotator serve --workers 1`` or ``annotator run``; seconds to first 200."""
    port = free_port()
    exe = str(Path(sys.executable).with_name("annotator"))
    args = [exe, "serve", "--workers", "1"] if command == "serve" else [exe, "run"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*args, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    seconds = wait_for(f"http://127.0.0.1:{port}/login", started, process)
    return process, port, seconds


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its workers."""
    os.killpg(process.pid, 15)
    process.wait(timeout=10)


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def exercise(port: int) -> None:
    """Log in, open the annotation page and save one label, as an annotator would."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = f"username=bench&password={PASSWORD}&csrf_token={token}".encode()
    opener.open(base + "/login", data=form).read()
    page = opener.open(base + "/articles/1/annotate").read().decode()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    data = json.loads(opener.open(base + "/api/v1/articles/1").read())
    unit = next(u["id"] for u in data["units"] if u["kind"] == "sentence")
    body = json.dumps({"label": "reported_fact", "sources": [], "expected_version": 0}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/units/{unit}/annotation",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
    )
    opener.open(request).read()


def worker_pid(master: int) -> int:
    """The gunicorn worker under ``master``."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def main() -> int:
    """Measure and print the footprint table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-venv", action="store_true", help="skip the installed size")
    add_report_option(parser)
    args = parser.parse_args()
    figures: dict[str, float] = {}
    if not args.skip_venv:
        figures.update(venv_size())
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp), args.database_url)
        for command in ("serve", "run"):
            times = []
            for _ in range(args.runs):
                process, port, seconds = start(env, command)
                times.append(seconds)
                if command == "serve" and len(times) == 1:
                    exercise(port)
                    time.sleep(2)
                    worker = worker_pid(process.pid)
                    rss, pss = memory_kb(worker)
                    master_rss, master_pss = memory_kb(process.pid)
                    figures["idle_mb"] = rss / 1024
                    figures["idle_pss_mb"] = pss / 1024
                    figures["master_rss_mb"] = master_rss / 1024
                    figures["master_pss_mb"] = master_pss / 1024
                stop(process)
            figures["start_s" if command == "serve" else "start_run_s"] = statistics.median(times)
    rows = [
        ("installed size, fresh venv with pip", "venv_mb", "MB", TARGETS["venv_mb"]),
        ("installed size without pip/setuptools", "venv_without_pip_mb", "MB", None),
        ("start to first response, serve", "start_s", "s", TARGETS["start_s"]),
        ("start to first response, run", "start_run_s", "s", TARGETS["start_s"]),
        ("idle memory, worker RSS", "idle_mb", "MB", TARGETS["idle_mb"]),
        ("idle memory, worker PSS", "idle_pss_mb", "MB", None),
        ("idle memory, gunicorn master RSS", "master_rss_mb", "MB", None),
    ]
    report = []
    print(f"footprint, median of {args.runs} starts")
    for name, key, unit, target in rows:
        if key not in figures:
            continue
        value = figures[key]
        verdict = "" if target is None else ("met" if value <= target else "MISSED")
        limit = "" if target is None else f"<= {target:g} {unit}"
        print(f"{name:<42}{value:>9.2f} {unit:<3} {limit:<12} {verdict}")
        report.append({"name": name, "value": value, "unit": unit, "target": target})
    for key, value in figures.items():
        if key.startswith("package ") or key == "dependencies":
            print(f"  {key:<40}{value:>9.1f}")
    if args.report:
        write_report(args.report, "footprint", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
