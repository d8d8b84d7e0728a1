"""Load test of the annotation API and page under gunicorn.

    python bench/annotate.py [--clients 10,50] [--duration 10] [--workers 2]
                             [--database-url URL]

Simulated annotators log in through /login, then (1) save labels through
PUT /api/v1/units/<id>/annotation with the version they last saw, and (2) load
the annotation page of a 50-sentence article. Prints saves/s and page loads/s
with p50/p95/p99 latency per client count, and the bytes a browser transfers
for the page of a 200-sentence article.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import sentence  # noqa: E402
from bench.httpload import Connection, Figures, timed  # noqa: E402

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


def start_server(
    instance: Path, url: str | None, workers: int, port: int, threads: int
) -> subprocess.Popen:
    """Start gunicorn on the app and wait until it answers."""
    env = dict(os.environ, ANNOTATOR_INSTANCE_PATH=str(instance), ANNOTATOR_SECRET_KEY="bench")
    if url:
        env["ANNOTATOR_DATABASE_URL"] = url
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
            "annotator:create_app()",
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


async def saver(
    port: int,
    number: int,
    article_id: int,
    deadline: float,
    figures: Figures,
    ready: asyncio.Barrier,
) -> None:
    """One annotator saving labels as fast as the server answers."""
    connection = Connection("127.0.0.1", port)
    await log_in(connection, f"bench{number}")
    token, versions = await csrf_and_units(connection, article_id)
    units = list(versions)
    rng = random.Random(number)
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    await ready.wait()
    i = 0
    while time.monotonic() < deadline:
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
    connection.close()


async def reader(
    port: int,
    number: int,
    article_id: int,
    deadline: float,
    figures: Figures,
    ready: asyncio.Barrier,
) -> None:
    """One annotator reloading the annotation page of a 50-sentence article."""
    connection = Connection("127.0.0.1", port)
    await log_in(connection, f"bench{number}")
    await ready.wait()
    while time.monotonic() < deadline:
        await timed(connection, figures, "GET", f"/articles/{article_id}/annotate")
    connection.close()


async def run_phase(
    kind: str, port: int, clients: int, duration: float, articles: list[int]
) -> Figures:
    """Run ``clients`` simulated annotators of one kind for ``duration`` seconds."""
    figures = Figures()
    ready = asyncio.Barrier(clients + 1)
    worker = saver if kind == "save" else reader
    # Log-ins happen before the clock starts; the phase ends by cancelling the
    # tasks, so their own deadline is only a backstop.
    deadline = time.monotonic() + 3600
    tasks = [
        asyncio.create_task(worker(port, n, articles[n % len(articles)], deadline, figures, ready))
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


def main() -> None:
    """Build, serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="10,50")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        articles = build_database(instance, args.database_url, max(counts))
        port = free_port()
        server = start_server(instance, args.database_url, args.workers, port, args.threads)
        try:
            rows = []
            for clients in counts:
                for kind in ("save", "page"):
                    figures = asyncio.run(
                        run_phase(kind, port, clients, args.duration, articles["50"])
                    )
                    rows.append((kind, clients, figures.summary()))
                    failed = {k: v for k, v in figures.statuses.items() if k >= 400}
                    if failed:
                        print(f"{kind} x{clients}: error statuses {failed}", file=sys.stderr)
            total, sizes = asyncio.run(page_weight(port, articles["200"][0]))
        finally:
            server.terminate()
            server.wait(timeout=10)
    engine = (args.database_url or "sqlite").split(":")[0]
    kind = f"gthread x{args.threads}" if args.threads > 1 else "sync"
    print(f"gunicorn {args.workers} {kind} workers, {engine}, {args.duration:.0f} s per run")
    print(
        f"{'what':<28}{'clients':>8}{'per s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    for kind, clients, s in rows:
        what = "save (PUT annotation)" if kind == "save" else "annotation page, 50 sent."
        print(
            f"{what:<28}{clients:>8}{s['per_s']:>10.0f}{s['p50']:>9.1f}{s['p95']:>9.1f}"
            f"{s['p99']:>9.1f}{s['error_share']:>8.1%}"
        )
    print(
        f"annotation page of a 200-sentence article: {total:,} bytes in total "
        + ", ".join(f"{name} {size:,}" for name, size in sizes.items())
    )


if __name__ == "__main__":
    main()
