"""Load test of the annotation API and page under gunicorn.

    python bench/annotate.py [--target app|ceiling|both] [--clients 10,50] [--duration 10]
                             [--workers 2] [--threads N] [--database-url URL]

Simulated annotators log in through /login, then (1) save labels through
PUT /api/v1/units/<id>/annotation with the version they last saw, and (2) load
the annotation page of a 50-sentence article. Prints saves/s and page loads/s
with p50/p95/p99 latency per client count, and the bytes a browser transfers
for the page of a 200-sentence article.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import sentence  # noqa: E402
from bench.httpload import Connection, Figures, timed  # noqa: E402
from bench.report import add_report_option, write_report  # noqa: E402

PASSWORD = "bench-password-1"
LABELS = ("reported_fact", "quote", "speculation", "unclear")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_database(instance: Path, url: str | None, users: int) -> dict[str, list[int]]:
    """Create the project, articles and users; return article ids by size."""
    os.environ["ANNOTATOR_INSTANCE_PATH"] = str(instance)
    if url:
        os.environ["ANNOTATOR_DATABASE_URL"] = url
    from annotator import create_app
    from annotator.access import add_member
    from annotator.db import get_database
    from annotator.importer import store_articles
    from annotator.ingest import parse_text
    from annotator.projects import get_or_create_project
    from annotator.schema import ensure_schema
    from annotator.users import create_user

    app = create_app({"SECRET_KEY": "bench"})
    ensure_schema(get_database(app).engine)
    rng = random.Random(5)
    with get_database(app).session() as session:
        project, _ = get_or_create_project(session, "bench")
        session.commit()
        articles: dict[str, list[int]] = {"50": [], "200": []}
        for size, count in (("50", users), ("200", 1)):
            for number in range(count):
                body = "\n\n".join(sentence(rng) for _ in range(int(size)))
                parsed = parse_text(f"Bench article {size}-{number}\n\n{body}")
                [result] = store_articles(session, project.id, [(parsed, None)])
                articles[size].append(result.article_id)
        for number in range(users):
            user = create_user(session, f"bench{number}", role="annotator", password=PASSWORD)
            add_member(session, project.id, user.id)
        session.commit()
    get_database(app).engine.dispose()
    return articles


def build_ceiling(url: str, users: int) -> list[list[int]]:
    """The ceiling app's tables with the same 50-sentence articles; unit ids per article."""
    from bench.ceiling_app import populate

    rng = random.Random(5)
    articles = {n + 1: [sentence(rng) for _ in range(50)] for n in range(users)}
    return list(populate(url, articles).values())


def start_server(
    instance: Path, url: str | None, workers: int, port: int, threads: int, app: str
) -> subprocess.Popen:
    """Start gunicorn on ``app`` and wait until it answers."""
    env = dict(os.environ, ANNOTATOR_INSTANCE_PATH=str(instance), ANNOTATOR_SECRET_KEY="bench")
    if url:
        env["ANNOTATOR_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *(["-k", "gthread", "--threads", str(threads)] if threads > 1 else []),
            app,
        ],
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


async def log_in(connection: Connection, username: str) -> None:
    """Log in through the real form, CSRF token included."""
    page = await connection.request("GET", "/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
    assert token, "no CSRF token on /login"
    form = urlencode(
        {"username": username, "password": PASSWORD, "csrf_token": token.group(1).decode()}
    ).encode()
    response = await connection.request(
        "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 302, f"login failed: {response.status}"


async def csrf_and_units(connection: Connection, article_id: int) -> tuple[str, dict[int, int]]:
    """The page's CSRF token and the article's sentence unit ids with their current versions."""
    page = await connection.request("GET", f"/articles/{article_id}/annotate")
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page.body)
    assert token, "no CSRF meta tag on the annotation page"
    data = await connection.request("GET", f"/api/v1/articles/{article_id}")
    units = {
        u["id"]: (u["annotation"] or {}).get("version", 0)
        for u in json.loads(data.body)["units"]
        if u["kind"] == "sentence"
    }
    return token.group(1).decode(), units


async def prepare_app_client(
    connection: Connection, number: int, article_id: int, save: bool
) -> tuple[dict[str, str], dict[int, int]]:
    """Log in; for savers also fetch the CSRF token and the units with their versions."""
    await log_in(connection, f"bench{number}")
    if not save:
        return {}, {}
    token, versions = await csrf_and_units(connection, article_id)
    return {"Content-Type": "application/json", "X-CSRFToken": token}, versions


async def saver(
    connection: Connection,
    headers: dict[str, str],
    versions: dict[int, int],
    number: int,
    figures: Figures,
    ready: asyncio.Barrier,
) -> None:
    """One annotator saving labels as fast as the server answers."""
    units = list(versions)
    rng = random.Random(number)
    await ready.wait()
    i = 0
    while True:
        unit = units[i % len(units)]
        i += 1
        body = json.dumps(
            {
                "label": rng.choice(LABELS),
                "sources": [],
                "note": "",
                "expected_version": versions[unit],
            }
        ).encode()
        response = await timed(
            connection, figures, "PUT", f"/api/v1/units/{unit}/annotation", body, headers
        )
        if response.status == 200:
            versions[unit] = json.loads(response.body)["annotation"]["version"]
        elif response.status == 409:
            current = json.loads(response.body).get("current")
            versions[unit] = current["version"] if current else 0


async def reader(
    connection: Connection,
    headers: dict[str, str],
    article_id: int,
    figures: Figures,
    ready: asyncio.Barrier,
) -> None:
    """One annotator reloading the annotation page of a 50-sentence article."""
    await ready.wait()
    while True:
        await timed(connection, figures, "GET", f"/articles/{article_id}/annotate", b"", headers)


async def client(
    target: str,
    kind: str,
    port: int,
    number: int,
    article: tuple[int, list[int]],
    figures: Figures,
    ready: asyncio.Barrier,
) -> None:
    """One simulated annotator of the real app or of the ceiling app."""
    connection = Connection("127.0.0.1", port)
    article_id, unit_ids = article
    try:
        if target == "app":
            headers, versions = await prepare_app_client(
                connection, number, article_id, kind == "save"
            )
        else:
            # The ceiling has no accounts: the annotator travels in a header.
            headers = {"Content-Type": "application/json", "X-Annotator": str(number + 1)}
            versions = dict.fromkeys(unit_ids, 0)
        if kind == "save":
            await saver(connection, headers, versions, number, figures, ready)
        else:
            await reader(connection, headers, article_id, figures, ready)
    finally:
        connection.close()


async def run_phase(
    target: str,
    kind: str,
    port: int,
    clients: int,
    duration: float,
    articles: list[tuple[int, list[int]]],
) -> Figures:
    """Run ``clients`` simulated annotators of one kind for ``duration`` seconds."""
    figures = Figures()
    ready = asyncio.Barrier(clients + 1)
    # Log-ins happen before the clock starts; the phase ends by cancelling the tasks.
    tasks = [
        asyncio.create_task(
            client(target, kind, port, n, articles[n % len(articles)], figures, ready)
        )
        for n in range(clients)
    ]
    await ready.wait()
    started = time.monotonic()
    await asyncio.sleep(duration)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    figures.seconds = time.monotonic() - started
    return figures


async def page_weight(port: int, article_id: int) -> tuple[int, dict[str, int]]:
    """Bytes of the annotation page of a 200-sentence article and of its assets."""
    connection = Connection("127.0.0.1", port)
    await log_in(connection, "bench0")
    page = await connection.request("GET", f"/articles/{article_id}/annotate")
    sizes = {"page": len(page.body)}
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+)"', page.body):
        response = await connection.request("GET", asset.decode())
        sizes[asset.decode()] = len(response.body)
    connection.close()
    return sum(sizes.values()), sizes


def serve(
    target: str, args: argparse.Namespace, users: int, instance: Path
) -> tuple[subprocess.Popen, int, list[tuple[int, list[int]]], list[int]]:
    """Build the target's data and serve it under gunicorn: (server, port, articles, big)."""
    url = args.database_url
    big: list[int] = []
    if target == "app":
        built = build_database(instance, url, users)
        articles = [(article_id, []) for article_id in built["50"]]
        big = built["200"]
        app = "annotator:create_app()"
    else:
        # Its own database: its tables are not annotator's (the app would refuse them).
        url = args.ceiling_database_url or f"sqlite:///{instance / 'ceiling.db'}"
        articles = [(n + 1, ids) for n, ids in enumerate(build_ceiling(url, users))]
        app = "bench.ceiling_app:create_app()"
    port = free_port()
    return start_server(instance, url, args.workers, port, args.threads, app), port, articles, big


def median_summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each figure over repeated runs."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    """Build, serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="10,50")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--ceiling-database-url", default=None, help="the ceiling's (default: SQLite file)"
    )
    parser.add_argument(
        "--target",
        choices=("app", "ceiling", "both"),
        default="both",
        help="the real app, the bare Flask + SQLAlchemy ceiling (bench/ceiling_app.py), or both",
    )
    add_report_option(parser)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    targets = ["ceiling", "app"] if args.target == "both" else [args.target]
    runs: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    weight = None
    with contextlib.ExitStack() as stack:
        servers = {}
        for target in targets:
            instance = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            server, port, articles, big = serve(target, args, max(counts), instance)
            stack.callback(stop, server)
            servers[target] = (port, articles, big)
        # Both servers stay up and the runs alternate, so a burst of load from
        # a neighbour on this shared machine hits both targets alike.
        for clients in counts:
            for kind in ("save", "page"):
                for _ in range(args.repeat):
                    for target, (port, articles, _big) in servers.items():
                        figures = asyncio.run(
                            run_phase(target, kind, port, clients, args.duration, articles)
                        )
                        runs.setdefault((target, kind, clients), []).append(figures.summary())
                        failed = {k: v for k, v in figures.statuses.items() if k >= 400}
                        if failed:
                            print(f"{target} {kind} x{clients}: errors {failed}", file=sys.stderr)
        if "app" in servers:
            port, _articles, big = servers["app"]
            weight = asyncio.run(page_weight(port, big[0]))
    engine = (args.database_url or "sqlite").split(":")[0].split("+")[0]
    kind = f"gthread x{args.threads}" if args.threads > 1 else "sync"
    print(
        f"gunicorn {args.workers} {kind} workers, {engine}, {args.duration:.0f} s per run, "
        f"median of {args.repeat} runs"
    )
    print(
        f"{'target':<9}{'what':<28}{'clients':>8}{'per s':>8}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'errors':>8}{'of ceiling':>11}"
    )
    summary = {key: median_summary(values) for key, values in runs.items()}
    report = []
    for (target, kind, clients), s in summary.items():
        what = "save (PUT annotation)" if kind == "save" else "annotation page, 50 sent."
        ceiling = summary.get(("ceiling", kind, clients))
        share = (
            f"{s['per_s'] / ceiling['per_s']:>11.0%}"
            if target == "app" and ceiling and ceiling["per_s"]
            else f"{'':>11}"
        )
        print(
            f"{target:<9}{what:<28}{clients:>8}{s['per_s']:>8.0f}{s['p50']:>8.1f}"
            f"{s['p95']:>8.1f}{s['p99']:>8.1f}{s['error_share']:>8.1%}{share}"
        )
        name = f"{target} {'saves' if kind == 'save' else 'pages'}, {clients} clients"
        report.append({"name": name + ", per s", "value": s["per_s"], "unit": "/s"})
        report.append({"name": name + ", p95", "value": s["p95"], "unit": "ms"})
        if target == "app" and ceiling and ceiling["per_s"]:
            target_share = 0.6 if kind == "save" else 0.5
            report.append(
                {
                    "name": name + ", share of ceiling",
                    "value": s["per_s"] / ceiling["per_s"],
                    "unit": "ratio",
                    "target": target_share,
                    "higher_is_better": True,
                }
            )
    if weight:
        total, sizes = weight
        print(
            f"annotation page of a 200-sentence article: {total:,} bytes in total "
            + ", ".join(f"{name} {size:,}" for name, size in sizes.items())
        )
        report.append(
            {
                "name": "page weight, 200 sentences",
                "value": total / 1000,
                "unit": "kB",
                "target": 100,
            }
        )
    if args.report:
        write_report(args.report, "annotate", report)


def stop(server: subprocess.Popen) -> None:
    """Stop a gunicorn master and wait for it."""
    server.terminate()
    server.wait(timeout=10)


if __name__ == "__main__":
    main()
