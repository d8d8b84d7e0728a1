"""The crash bench's HTTP clients: annotators saving through the JSON API and a
reviewer importing articles, each recording what the server acknowledged."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPException
from http.cookiejar import CookieJar
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

from bench.corpus import corpus
from bench.crash_check import Ledger, Save

PASSWORD = "crash test password"
LABELS = ("reported_fact", "quote", "speculation", "unclear")


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Browser:
    """A cookie jar and a CSRF token; JSON in, (status, JSON or text) out."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirects())
        self.csrf = ""

    def call(self, url: str, method: str, body: Any = None, form: Any = None) -> tuple[int, Any]:
        """One request; connection errors propagate (the server may be dead)."""
        headers = {"X-CSRFToken": self.csrf}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            with self.opener.open(Request(url, data, headers, method=method), timeout=30) as r:
                status, raw, kind = r.status, r.read(), r.headers.get_content_type()
        except HTTPError as error:
            with error:
                status, raw, kind = error.code, error.read(), error.headers.get_content_type()
        return status, json.loads(raw) if kind == "application/json" else raw.decode()

    def login(self, server: str) -> None:
        """Log in through the form, then fetch the API's CSRF token."""
        status, page = self.call(server + "/login", "GET")
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        form = {"username": self.name, "password": PASSWORD, "csrf_token": token}
        status, _ = self.call(server + "/login", "POST", form=form)
        if status != 302:
            raise RuntimeError(f"{self.name} could not log in: {status}")

    def refresh_csrf(self, server: str) -> bool:
        """Fetch a CSRF token; False when the login session is gone."""
        status, reply = self.call(server + "/api/v1/csrf-token", "GET")
        if status == 401:
            return False
        self.csrf = reply["csrf_token"]
        return True


@dataclass
class Tally:
    """What one trial's clients saw."""

    acked: int = 0
    conflicts: int = 0
    errors: int = 0
    unknown: int = 0
    imports_acked: int = 0
    imports_unknown: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        """Count ``n`` under ``name`` (thread-safe)."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def error(self, status: int) -> None:
        """Count an answer that was neither 2xx nor 409."""
        with self.lock:
            self.errors += 1
            self.statuses[status] += 1


# What a request meets when the server dies under it. HTTPException covers a
# response cut off by the kill after its headers (IncompleteRead): the save may
# have committed, so its outcome is unknown, like a connection reset.
SERVER_GONE = (URLError, ConnectionError, TimeoutError, OSError, HTTPException)


def _refused(error: BaseException) -> bool:
    """Whether a request failed before reaching the server (nothing can have happened)."""
    reason = getattr(error, "reason", error)
    return isinstance(reason, ConnectionRefusedError)


class Annotator:
    """One annotator saving random labels on the shared article through the API."""

    def __init__(self, name: str, article: int, units: list[int], ledger: Ledger, seed: int):
        self.browser = Browser(name)
        self.name, self.article, self.units, self.ledger = name, article, units, ledger
        self.rng = random.Random(seed)
        self.known: dict[int, int] = {}
        self.logged_in = False
        self.sequence = 0

    def start(self, server: str, tally: Tally) -> None:
        """Log in once (the session must survive the kills), then read back our answers."""
        if not self.logged_in:
            self.browser.login(server)
            self.logged_in = True
        if not self.browser.refresh_csrf(server):
            tally.problems.append(f"{self.name}'s acknowledged login session was lost")
            self.browser.login(server)
            self.browser.refresh_csrf(server)
        status, view = self.browser.call(f"{server}/api/v1/articles/{self.article}", "GET")
        if status != 200:
            raise RuntimeError(f"{self.name} cannot read the article: {status} {view}")
        with self.ledger.lock:
            newest: dict[int, int] = {}
            for save in self.ledger.acked:
                if save.annotator == self.name:
                    newest[save.unit] = max(newest.get(save.unit, 0), save.version)
        for unit in view["units"]:
            version = (unit["annotation"] or {}).get("version", 0)
            if version < newest.get(unit["id"], 0):
                tally.problems.append(
                    f"after the restart the API shows {self.name} version {version} of unit "
                    f"{unit['id']}, acknowledged {newest[unit['id']]}"
                )
            self.known[unit["id"]] = version

    def run(self, server: str, stop: threading.Event, tally: Tally) -> None:
        """Save until ``stop``; a dead server ends the loop."""
        while not stop.is_set():
            unit = self.rng.choice(self.units)
            self.sequence += 1
            label = self.rng.choice(LABELS)
            note = f"{self.name} #{self.sequence} {uuid.uuid4().hex[:8]}"
            expected = self.known.get(unit, 0)
            sent = Save(unit, self.name, label, note, expected + 1)
            body = {"label": label, "sources": [], "note": note, "expected_version": expected}
            try:
                status, reply = self.browser.call(
                    f"{server}/api/v1/units/{unit}/annotation", "PUT", body
                )
            except SERVER_GONE as error:
                if _refused(error):
                    return  # never reached the server
                with self.ledger.lock:
                    self.ledger.attempted.append(sent)
                tally.add("unknown")
                return
            if 200 <= status < 300:
                version = reply["annotation"]["version"]
                with self.ledger.lock:
                    self.ledger.acked.append(Save(unit, self.name, label, note, version))
                self.known[unit] = version
                tally.add("acked")
            elif status == 409:
                self.known[unit] = (reply.get("current") or {}).get("version", 0)
                tally.add("conflicts")
            else:
                # A 5xx may come after a commit that went through: unknown outcome.
                with self.ledger.lock:
                    self.ledger.attempted.append(sent)
                tally.error(status)


class Importer:
    """A reviewer importing medium-sized articles through the API, one after another."""

    def __init__(self, project: int, ledger: Ledger, sentences: int, seed: int):
        self.browser = Browser("editor")
        self.project, self.ledger, self.sentences = project, ledger, sentences
        self.rng = random.Random(seed)
        self.logged_in = False

    def run(self, server: str, trial: int, stop: threading.Event, tally: Tally) -> None:
        """Import until ``stop``; a dead server ends the loop."""
        if not self.logged_in:
            self.browser.login(server)
            self.logged_in = True
        if not self.browser.refresh_csrf(server):
            tally.problems.append("the editor's acknowledged login session was lost")
            self.browser.login(server)
            self.browser.refresh_csrf(server)
        number = 0
        while not stop.is_set():
            number += 1
            title = f"api import t{trial} #{number}"
            [body] = corpus(
                self.sentences, per_article=self.sentences, seed=self.rng.randrange(1 << 30)
            )
            with self.ledger.lock:
                self.ledger.articles[title] = ("text", body)
            url = f"{server}/api/v1/projects/{self.project}/articles"
            try:
                status, reply = self.browser.call(url, "POST", {"text": body, "title": title})
            except SERVER_GONE as error:
                if not _refused(error):
                    tally.add("imports_unknown")
                return
            if status == 201:
                with self.ledger.lock:
                    self.ledger.acked_articles.add(title)
                tally.add("imports_acked")
            else:
                tally.error(status)
