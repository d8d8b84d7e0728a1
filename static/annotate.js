/* The annotation page: keyboard annotation, autosave through the JSON API, a change queue
   kept in localStorage until the server acknowledges it, and a dialog for stale saves. */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const D = JSON.parse($("annotate-data").textContent);
  const RO = D.read_only, API = D.api, PID = D.project.id, MODE = D.project.suggestion_mode;
  const LABELS = D.project.labels;
  const labelIdx = new Map(LABELS.map((l, i) => [l.name, i]));
  const labelByKey = new Map(LABELS.map((l) => [l.key, l.name]));
  const KEY = `annotator:pending:${D.me.id}:`;
  // The page embeds a compact form of the API's article view (see views/annotate.py).
  const src = (id) => ({ id, name: D.sources[id][0], kind: D.sources[id][1] });
  const units = D.units.map(([id, start, g, a], index) => ({
    id, index, start, end: start,
    suggestion: g ? {
      label: g[0] === null ? null : LABELS[g[0]].name, sources: g[1].map(src),
      cues: g[2].map(([k, s, e]) => ({ kind: D.cue_kinds[k], start: s, end: e, text: "" })),
    } : null,
    annotation: a ? { label: LABELS[a[0]].name, sources: a[1].map(src), note: a[2], version: a[3], flagged: !!a[4], previous_text: a[5] || null } : null,
  }));
  const byId = new Map(units.map((u) => [u.id, u]));
  const note = $("note"), pq = $("pq"), pl = $("pl"), picker = $("picker");
  const reduce = matchMedia("(prefers-reduced-motion: reduce)").matches;
  let csrf = document.querySelector('meta[name="csrf-token"]').content;
  let cur = 0, seqN = 0, busy = false, paused = "", attempt = 0, retryAt = 0, offline = false;
  let failWhy = "", rejected = "", flash = "", everSaved = false, noteUndo = false;
  let kickT = 0, retryT = 0, pollT = 0, searchT = 0, searchSeq = 0, lastQ = null;
  let results = [], active = 0;
  const undo = [];
  const inflight = new Set();
  // Seconds spent on each sentence and not yet reported with a save (idle stays capped).
  const spent = new Map();
  let since = Date.now();
  // Pending changes: unit id -> {d: wanted state or null (cleared), v: version it is based on, t: order}.
  const pend = new Map();

  // ---- state -------------------------------------------------------------------------
  const key = (a) => (a ? JSON.stringify([a.label, (a.sources || []).map((s) => s.id), a.note || ""]) : "null");
  const same = (a, b) => key(a) === key(b);
  const copy = (a) => a && { label: a.label, sources: (a.sources || []).map(({ id, name, kind }) => ({ id, name, kind })), note: a.note || "" };
  const st = (u) => (!RO && pend.has(u.id) ? pend.get(u.id).d : u.annotation);
  const prefill = (u) =>
    MODE === "prefill" && !u.annotation && !(pend.has(u.id) && pend.get(u.id).d) && u.suggestion && u.suggestion.label
      ? u.suggestion : null;
  const shown = (u) => st(u) || prefill(u);
  const seq = () => Date.now() * 1000 + (seqN++ % 1000);
  const names = (list) => list.map((s) => s.name).join(" → ");
  const words = (s) => String(s).replace(/_/g, " ");

  function remember(id, e) {
    pend.set(id, e);
    try { localStorage.setItem(KEY + id, JSON.stringify(e)); } catch (_) { /* private mode: memory only */ }
  }
  function forget(id, t) {
    const e = pend.get(id);
    if (e && t !== undefined && e.t !== t) return;
    pend.delete(id);
    try {
      const raw = JSON.parse(localStorage.getItem(KEY + id) || "null");
      // Another tab may have stored a newer change for the unit since: leave that one.
      if (!raw || !e || raw.t === e.t) localStorage.removeItem(KEY + id);
    } catch (_) { /* ignore */ }
  }
  function adopt() {
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (!k || !k.startsWith(KEY)) continue;
        const e = JSON.parse(localStorage.getItem(k));
        const id = +k.slice(KEY.length);
        if (id > 0 && e && typeof e.t === "number" && typeof e.v === "number") pend.set(id, e);
      }
    } catch (_) { /* unreadable storage: nothing to adopt */ }
  }

  // ---- changes -----------------------------------------------------------------------
  function put(u, d, delay = 0, force = false) {
    if (RO) return;
    const e = pend.get(u.id), saved = u.annotation;
    if (!force && same(saved, d) && !inflight.has(u.id)) {
      if (e) forget(u.id);
    } else {
      remember(u.id, { d: copy(d), v: e ? e.v : saved ? saved.version : 0, t: seq() });
    }
    rejected = "";
    paint(u);
    if (u === units[cur]) panel();
    kick(delay);
  }
  function change(u, d, delay = 0) {
    const before = st(u);
    if (same(before, d)) return false;
    undo.push({ id: u.id, d: copy(before) });
    if (undo.length > 200) undo.shift();
    put(u, d, delay);
    return true;
  }
  function edit(u, patch) {
    const a = shown(u) || { label: null, sources: [], note: "" };
    return change(u, { label: a.label, sources: a.sources, note: a.note || "", ...patch });
  }
  const setLabel = (name) => edit(units[cur], { label: name });
  function clearLabel() {
    const u = units[cur];
    if (change(u, null)) say("Label cleared");
  }
  function doUndo() {
    const x = undo.pop();
    const u = x && byId.get(x.id);
    if (!u) return say("Nothing to undo");
    go(units.indexOf(u));
    put(u, x.d);
    say("Undone");
  }
  function confirmUnit() {
    const u = units[cur], pf = prefill(u), s = st(u);
    if (pf) change(u, { label: pf.label, sources: pf.sources, note: "" });
    else if (!s || !s.label) return say(`Choose a label first (${LABELS.map((l) => l.key).join(", ")})`);
    else if (u.annotation && u.annotation.flagged && !pend.has(u.id)) put(u, s, 0, true);
    nextUnlabelled();
  }
  function nextUnlabelled() {
    for (let k = 1; k <= units.length; k++) {
      const i = (cur + k) % units.length, s = st(units[i]);
      if (!s || !s.label) return go(i);
    }
    say("Every sentence is labelled");
    const next = $("next");
    if (next) next.focus();
  }

  // ---- the save queue ----------------------------------------------------------------
  function kick(delay = 0) {
    if (RO) return;
    clearTimeout(kickT);
    kickT = setTimeout(flush, delay);
    status();
  }
  const sendable = () =>
    [...pend.entries()].filter(([id, e]) => !inflight.has(id) && (e.d === null || e.d.label)).sort((a, b) => a[1].t - b[1].t);
  async function flush() {
    if (busy || paused || RO) return;
    busy = true;
    try {
      for (let next = sendable()[0]; next; next = sendable()[0]) {
        if (!(await send(next[0], next[1]))) break;
      }
    } finally {
      busy = false;
      status();
    }
  }
  function api(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method, headers, credentials: "same-origin", redirect: "manual",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  function took(id) {
    let s = spent.get(id) || 0;
    if (units[cur] && units[cur].id === id) {
      s += Math.min(300, (Date.now() - since) / 1000);
      since = Date.now();
    }
    spent.delete(id);
    return Math.round(s * 10) / 10;
  }
  async function send(id, e, retried = false) {
    let r, b = null, secs = 0;
    inflight.add(id);
    status();
    try {
      if (e.d === null && !e.v) {
        forget(id, e.t);
        return true;
      }
      r = e.d === null
        ? await api("DELETE", `/units/${id}/annotation?expected_version=${e.v}`)
        : await api("PUT", `/units/${id}/annotation`, {
          label: e.d.label, sources: e.d.sources.map((s) => s.id), note: e.d.note, expected_version: e.v,
          seconds_spent: (secs = took(id)),
        });
      b = await r.json().catch(() => null);
    } catch (_) {
      if (secs) spent.set(id, (spent.get(id) || 0) + secs);
      return fail(navigator.onLine === false ? "offline" : "network error");
    } finally {
      inflight.delete(id);
    }
    if (r.type === "opaqueredirect" || r.status === 401) return loggedOut();
    if (r.ok && b && "annotation" in b) {
      acked(id, e, b.annotation, b.progress);
      return true;
    }
    if (secs) spent.set(id, (spent.get(id) || 0) + secs);
    if (r.status === 400 && b && b.error === "csrf" && !retried) {
      return (await token()) ? send(id, e, true) : paused ? false : fail("session check failed");
    }
    if (r.status === 409 && b) {
      const c = b.current || null;
      if (same(c, e.d)) {
        acked(id, e, c, null); // our own earlier save, its answer lost on the way
        return true;
      }
      conflict(id, e, c);
      return false;
    }
    if (!b || r.status >= 500 || r.status === 429 || r.status === 408) return fail(`server answered ${r.status}`);
    // Any other refusal (422, 404 …) will not change by retrying: say why and drop it.
    forget(id, e.t);
    rejected = b.message || `refused (${r.status})`;
    const u = byId.get(id);
    if (u) { paint(u); if (u === units[cur]) panel(); }
    return true;
  }
  function acked(id, e, ann, progress) {
    const u = byId.get(id), now = pend.get(id);
    if (u) u.annotation = ann;
    if (now && (now.t === e.t || same(now.d, ann))) forget(id, now.t);
    else if (now) remember(id, { ...now, v: ann ? ann.version : 0 });
    attempt = 0; retryAt = 0; offline = false; failWhy = ""; everSaved = true;
    if (u && progress && typeof progress.done === "number") $("done").textContent = progress.done;
    if (u) { paint(u); if (u === units[cur]) panel(); }
  }
  function fail(why) {
    attempt++;
    offline = why === "offline";
    failWhy = why;
    const secs = Math.min(60, 2 ** Math.min(attempt, 6));
    retryAt = Date.now() + secs * 1000;
    clearTimeout(retryT);
    retryT = setTimeout(() => { retryAt = 0; flush(); }, secs * 1000);
    status();
    return false;
  }
  function loggedOut() {
    paused = "login";
    $("logout").hidden = false;
    status();
    clearTimeout(pollT);
    pollT = setTimeout(async () => { if (paused === "login" && (await token(true))) back(); else if (paused === "login") loggedOut(); }, 4000);
    return false;
  }
  function back() {
    paused = "";
    $("logout").hidden = true;
    attempt = 0;
    kick();
  }
  async function token(quiet = false) {
    try {
      const r = await fetch(`${API}/csrf-token`, { headers: { Accept: "application/json" }, credentials: "same-origin", redirect: "manual" });
      if (r.status === 401 || r.type === "opaqueredirect") {
        if (!quiet) loggedOut();
        return false;
      }
      const b = r.ok ? await r.json() : null;
      if (b && typeof b.csrf_token === "string") {
        csrf = b.csrf_token;
        return true;
      }
    } catch (_) { /* offline: the caller retries */ }
    return false;
  }
  function status() {
    let text = "", cls = "warn";
    const waiting = [...pend.values()].filter((e) => e.d === null || e.d.label).length;
    const partial = pend.size - waiting;
    if (RO) text = "Read-only";
    else if (paused === "login") text = `Logged out: ${waiting || "your"} change${waiting === 1 ? "" : "s"} kept, not saved yet`;
    else if (paused === "conflict") text = "Not saved: choose which version to keep";
    else if (inflight.size || (waiting && !retryAt)) text = "Saving…";
    else if (retryAt) text = offline ? "Offline: not saved, will retry" : `Not saved (${failWhy}), retrying`;
    else if (rejected) { text = `Not saved: ${rejected}`; cls = "bad"; }
    else if (partial) text = "Not saved yet: choose a label";
    else if (flash) { text = flash; cls = ""; }
    else if (everSaved) { text = "All changes saved"; cls = "ok"; }
    const el = $("state");
    if (el.textContent !== text) el.textContent = text;
    el.parentNode.className = `state ${cls}`;
    tick();
  }
  function tick() {
    const s = retryAt && !paused ? Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) : 0;
    $("retry").textContent = s ? `in ${s} s` : "";
  }
  function say(text) {
    flash = text;
    status();
    setTimeout(() => { if (flash === text) { flash = ""; status(); } }, 4000);
  }

  // ---- the conflict dialog -----------------------------------------------------------
  function describe(dl, a, who) {
    dl.textContent = "";
    const rows = a
      ? [["Label", a.label], ["Sources", names(a.sources) || "none"], ["Note", a.note || "none"], ...who]
      : [["Label", "none (cleared)"], ...who];
    for (const [t, v] of rows) {
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = t;
      dd.textContent = v;
      dd.dir = "auto";
      dl.append(dt, dd);
    }
  }
  function conflict(id, e, c) {
    paused = "conflict";
    const u = byId.get(id), dlg = $("conflict");
    if (u) go(units.indexOf(u));
    $("cf-text").textContent = u ? u.el.textContent : `A sentence of another article (unit ${id}).`;
    describe($("cf-mine"), e.d, [["Changed", "in this tab, not saved"]]);
    const when = c && c.updated_at ? new Date(c.updated_at).toLocaleString() : "";
    describe($("cf-theirs"), c, [["Saved", `${when} by ${D.me.username} (another tab or window)${c ? `, version ${c.version}` : ""}`]]);
    const done = (keep) => {
      const now = pend.get(id);
      if (keep && now) remember(id, { ...now, v: c ? c.version : 0 });
      else {
        forget(id);
        if (u) u.annotation = c;
      }
      dlg.close();
      paused = "";
      if (u) { paint(u); panel(); u.el.focus(); }
      kick();
    };
    $("cf-keep").onclick = () => done(true);
    $("cf-take").onclick = () => done(false);
    status();
    if (!dlg.open) dlg.showModal();
    $("cf-keep").focus();
  }

  // ---- painting ----------------------------------------------------------------------
  function paint(u) {
    const el = u.el, e = !RO && pend.get(u.id), s = st(u), pf = prefill(u), a = s || pf;
    const cls = [];
    if (u === units[cur]) cls.push("cur");
    if (a && a.label) cls.push(`a${labelIdx.get(a.label) ?? 0}`);
    if (e) cls.push("p");
    if (pf) cls.push("sg");
    if (!e && u.annotation && u.annotation.flagged) cls.push("f");
    el.className = cls.join(" ");
    let tag = "";
    if (pf) tag = `suggested: ${pf.label}${u === units[cur] ? ", press Enter to confirm" : ""}`;
    else if (a && a.label) tag = e ? `${a.label} · not saved` : a.label;
    else if (e && e.d) tag = "no label · not saved";
    if (tag) el.dataset.l = tag;
    else delete el.dataset.l;
    const g = u.suggestion;
    if (MODE === "hint" && g && g.label && !tag) el.dataset.h = `hint: ${g.label}${g.sources.length ? ` · ${names(g.sources)}` : ""}`;
    else delete el.dataset.h;
  }
  function panel() {
    const u = units[cur];
    if (!u) return;
    const s = st(u), pf = prefill(u), a = s || pf, g = u.suggestion;
    $("pos").textContent = `${cur + 1} of ${units.length}`;
    for (const b of document.querySelectorAll(".lab")) {
      b.setAttribute("aria-pressed", String(!!a && a.label === b.dataset.label));
      b.classList.toggle("sg", !!pf && pf.label === b.dataset.label);
    }
    const flagged = u.annotation && u.annotation.flagged && !pend.has(u.id);
    $("flag").hidden = !flagged;
    $("prev").textContent = flagged ? u.annotation.previous_text || "" : "";
    const sg = $("sugg");
    sg.hidden = !(g && g.label && MODE !== "hidden");
    if (!sg.hidden) {
      const what = `${g.label}${g.sources.length ? ` · ${names(g.sources)}` : ""}`;
      sg.textContent = pf ? `Suggested: ${what}. Not saved: press Enter to confirm.` : `Suggestion (not selected): ${what}`;
    }
    chips(a ? a.sources : [], !!pf);
    if (document.activeElement !== note) note.value = a ? a.note || "" : "";
    const cues = g && g.cues ? g.cues : [];
    $("cues").textContent = cues.length ? `Cues: ${cues.map((c) => `${words(c.kind)} “${[...c.text].length > 40 ? `${[...c.text].slice(0, 39).join("")}…` : c.text}”`).join(", ")}` : "";
  }
  function button(text, label, fn) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", fn);
    return b;
  }
  function chips(list, suggested) {
    const ol = $("chips");
    ol.textContent = "";
    $("no-src").hidden = list.length > 0;
    list.forEach((s, i) => {
      const li = document.createElement("li"), n = document.createElement("span");
      const nm = document.createElement("bdi"), k = document.createElement("span");
      n.className = "n";
      n.textContent = i + 1;
      nm.className = "nm";
      nm.textContent = s.name;
      k.className = "k";
      k.textContent = words(s.kind || "") + (suggested ? " · suggested" : "");
      li.append(n, nm, k);
      if (suggested) li.className = "sg";
      if (!RO) {
        const move = (d) => {
          const l = list.slice();
          [l[i], l[i + d]] = [l[i + d], l[i]];
          edit(units[cur], { sources: l });
        };
        if (i > 0) li.append(button("↑", `Move ${s.name} up`, () => move(-1)));
        if (i < list.length - 1) li.append(button("↓", `Move ${s.name} down`, () => move(1)));
        li.append(button("×", `Remove ${s.name}`, () => {
          edit(units[cur], { sources: list.filter((x) => x.id !== s.id) });
          say(`Removed ${s.name}`);
        }));
      }
      ol.append(li);
    });
  }
  // Wrap source mentions and suggestion cues in marks; offsets are code points.
  function decorate(u, mentions) {
    const el = u.el, chars = Array.from(el.textContent), n = chars.length;
    u.end = u.start + n;
    const spans = [];
    for (const [id, s, e] of mentions) if (s < u.end && e > u.start) spans.push([s - u.start, e - u.start, "m", D.sources[id][0]]);
    for (const c of (u.suggestion && u.suggestion.cues) || []) {
      c.text = chars.slice(Math.max(0, c.start - u.start), c.end - u.start).join("");
      if (c.start < u.end && c.end > u.start) spans.push([c.start - u.start, c.end - u.start, "c", words(c.kind)]);
    }
    if (!spans.length) return;
    const cuts = [...new Set([0, n, ...spans.flatMap(([s, e]) => [Math.max(0, s), Math.min(n, e)])])].sort((a, b) => a - b);
    el.textContent = "";
    for (let i = 0; i + 1 < cuts.length; i++) {
      const a = cuts[i], b = cuts[i + 1];
      let node = document.createTextNode(chars.slice(a, b).join(""));
      const over = spans.filter(([s, e]) => s <= a && e >= b);
      const cs = over.filter((x) => x[2] === "c"), ms = over.filter((x) => x[2] === "m");
      if (cs.length) node = wrap("span", "c", `cue: ${cs.map((x) => x[3]).join(", ")}`, node);
      if (ms.length) node = wrap("mark", "m", `source: ${ms.map((x) => x[3]).join(", ")}`, node);
      el.append(node);
    }
  }
  function wrap(tag, cls, title, child) {
    const w = document.createElement(tag);
    w.className = cls;
    w.title = title;
    w.append(child);
    return w;
  }

  // ---- moving around -----------------------------------------------------------------
  function go(i, focus = true) {
    if (!units.length) return;
    i = Math.max(0, Math.min(units.length - 1, i));
    const prev = units[cur];
    if (prev) spent.set(prev.id, (spent.get(prev.id) || 0) + Math.min(300, (Date.now() - since) / 1000));
    since = Date.now();
    cur = i;
    const u = units[cur];
    if (prev && prev !== u) {
      prev.el.tabIndex = -1;
      prev.el.setAttribute("aria-selected", "false");
      paint(prev);
    }
    u.el.tabIndex = 0;
    u.el.setAttribute("aria-selected", "true");
    paint(u);
    panel();
    if (focus && document.activeElement !== u.el) u.el.focus({ preventScroll: true });
    reveal(u.el);
  }
  function reveal(el) {
    const r = el.getBoundingClientRect(), vh = innerHeight;
    const p = document.querySelector(".panel");
    const bottom = getComputedStyle(p).bottom === "0px" ? vh - p.offsetHeight : vh;
    if (r.top < vh * 0.15 || r.bottom > bottom - 16) {
      scrollTo({ top: scrollY + r.top - vh * 0.22, behavior: reduce ? "auto" : "smooth" });
    }
  }

  // ---- the source picker -------------------------------------------------------------
  function openPicker() {
    if (RO || !picker) return;
    picker.hidden = false;
    pq.value = "";
    $("perr").textContent = "";
    search();
    pq.focus();
  }
  function closePicker() {
    if (picker) picker.hidden = true;
  }
  function get(path) {
    return fetch(API + path, { headers: { Accept: "application/json" }, credentials: "same-origin", redirect: "manual" });
  }
  async function search() {
    clearTimeout(searchT);
    const q = pq.value.trim(), my = ++searchSeq;
    let list = [];
    try {
      const r = await get(`/projects/${PID}/sources?limit=9${q ? `&q=${encodeURIComponent(q)}` : ""}`);
      if (r.status === 401 || r.type === "opaqueredirect") return void loggedOut();
      const b = await r.json();
      list = Array.isArray(b.sources) ? b.sources : [];
      $("perr").textContent = "";
    } catch (_) {
      $("perr").textContent = "Could not search the sources (offline?)";
    }
    if (my !== searchSeq) return;
    const credits = (D.credit_sources || []).map((s) => ({ ...s, credit: true }));
    if (!q) list = [...credits, ...list];
    const have = new Set((shown(units[cur]) || { sources: [] }).sources.map((s) => s.id));
    const seen = new Set();
    results = list.filter((s) => !have.has(s.id) && !seen.has(s.id) && seen.add(s.id)).slice(0, 9);
    active = 0;
    lastQ = q;
    draw(q);
  }
  function draw(q) {
    pl.textContent = "";
    results.forEach((s, i) => {
      const li = document.createElement("li"), n = document.createElement("kbd");
      const nm = document.createElement("bdi"), k = document.createElement("span");
      li.id = `po${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === active));
      n.textContent = i + 1;
      nm.className = "nm";
      nm.textContent = s.name;
      k.className = "k";
      k.textContent = words(s.kind || "") + (s.credit ? " · in the credits" : "");
      li.append(n, nm, k);
      li.addEventListener("mousedown", (ev) => { ev.preventDefault(); pick(i); });
      pl.append(li);
    });
    if (results.length) pq.setAttribute("aria-activedescendant", `po${active}`);
    else pq.removeAttribute("aria-activedescendant");
    const lower = q.toLowerCase();
    const exact = results.some((s) => s.name.toLowerCase() === lower || (s.aliases || []).some((a) => a.toLowerCase() === lower));
    $("pc").hidden = !q || exact;
    $("pcn").textContent = q;
  }
  function pick(i) {
    const s = results[i];
    if (!s) return;
    const u = units[cur], a = shown(u);
    const list = (a ? a.sources : []).concat([{ id: s.id, name: s.name, kind: s.kind }]);
    edit(u, { sources: list });
    closePicker();
    u.el.focus();
    say(`Added ${s.name} as source ${list.length}`);
  }
  async function create(retried = false) {
    const name = pq.value.trim();
    if (!name) return;
    let r, b = null;
    try {
      r = await api("POST", `/projects/${PID}/sources`, { name, kind: $("pk").value });
      b = await r.json().catch(() => null);
    } catch (_) {
      $("perr").textContent = "Offline: new sources can be created once the connection is back.";
      return;
    }
    if (r.status === 401 || r.type === "opaqueredirect") return void loggedOut();
    if (r.status === 400 && b && b.error === "csrf" && !retried && (await token())) return create(true);
    if (r.ok && b && b.source) {
      results = [b.source];
      pick(0);
    } else {
      $("perr").textContent = (b && b.message) || `Could not create the source (${r.status}).`;
    }
  }
  async function pickFromInput(i) {
    if (pq.value.trim() !== lastQ) await search();
    if (results.length) pick(i);
    else if (i === 0 && pq.value.trim()) create();
  }

  // ---- events ------------------------------------------------------------------------
  function onKey(ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target, tag = t.tagName, k = ev.key;
    if ($("help").open) {
      if (k === "?") { ev.preventDefault(); $("help").close(); }
      return;
    }
    if ($("conflict").open) return;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable) return;
    let done = true;
    if (k === "j" || k === "ArrowDown") go(cur + 1);
    else if (k === "k" || k === "ArrowUp") go(cur - 1);
    else if (k === "?") $("help").showModal();
    else if (k === "Escape") { closePicker(); units[cur] && units[cur].el.focus(); }
    else if (RO || !units.length) done = false;
    else if (labelByKey.has(k)) setLabel(labelByKey.get(k));
    else if (k === "Enter" && tag !== "BUTTON" && tag !== "A") confirmUnit();
    else if (k === "s") openPicker();
    else if (k === "n") note.focus();
    else if (k === "u") doUndo();
    else if (k === "x") clearLabel();
    else done = false;
    if (done) ev.preventDefault();
  }
  function init() {
    const mentions = D.mentions || [];
    const lis = $("units").querySelectorAll("li:not(.ctx)");
    units.forEach((u, i) => {
      const el = (u.el = lis[i]);
      el.id = `u${u.id}`;
      el.setAttribute("role", "option");
      el.setAttribute("aria-selected", "false");
      el.tabIndex = -1;
      el.dir = "auto";
      decorate(u, mentions);
    });
    for (const el of $("units").querySelectorAll(".ctx")) {
      el.setAttribute("role", "option");
      el.setAttribute("aria-disabled", "true");
      el.dir = "auto";
    }
    if (!RO) adopt();
    const hash = /^#u(\d+)$/.exec(location.hash);
    let start = hash && byId.has(+hash[1]) ? units.indexOf(byId.get(+hash[1])) : units.findIndex((u) => !(st(u) && st(u).label));
    cur = Math.max(0, start);
    units.forEach(paint);
    if (units.length) go(cur, false);
    document.addEventListener("keydown", onKey);
    $("units").addEventListener("click", (ev) => {
      const li = ev.target.closest("li[tabindex]");
      if (li) go(units.indexOf(byId.get(+li.id.slice(1))));
    });
    $("units").addEventListener("focusin", (ev) => {
      const u = byId.get(+ev.target.id.slice(1));
      if (u && units[cur] !== u) go(units.indexOf(u), false);
    });
    for (const b of document.querySelectorAll(".lab")) b.addEventListener("click", () => setLabel(b.dataset.label));
    $("help-btn").addEventListener("click", () => $("help").showModal());
    $("help-close").addEventListener("click", () => $("help").close());
    $("conflict").addEventListener("cancel", (ev) => ev.preventDefault());
    if (!RO) {
      note.addEventListener("input", () => {
        const u = units[cur], a = shown(u) || { label: null, sources: [] };
        // One undo step per stretch of typing, not per keystroke.
        if (!noteUndo) { undo.push({ id: u.id, d: copy(st(u)) }); noteUndo = true; }
        put(u, { label: a.label, sources: a.sources, note: note.value }, 900);
      });
      note.addEventListener("blur", () => { noteUndo = false; if (pend.size) kick(); });
      note.addEventListener("keydown", (ev) => {
        if (ev.key === "Escape") { ev.preventDefault(); units[cur].el.focus(); }
      });
      $("add-src").addEventListener("click", openPicker);
      pq.addEventListener("input", () => { clearTimeout(searchT); searchT = setTimeout(search, 180); });
      pq.addEventListener("keydown", (ev) => {
        const k = ev.key;
        if (k === "Escape") { ev.preventDefault(); closePicker(); units[cur].el.focus(); }
        else if (k === "ArrowDown" || k === "ArrowUp") {
          ev.preventDefault();
          if (results.length) { active = (active + (k === "ArrowDown" ? 1 : results.length - 1)) % results.length; draw(lastQ || ""); }
        } else if (k === "Enter") { ev.preventDefault(); pickFromInput(active); }
        else if (/^[1-9]$/.test(k) && +k <= results.length) { ev.preventDefault(); pickFromInput(+k - 1); }
      });
      $("pcb").addEventListener("click", () => create());
      $("pk").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); create(); } });
      addEventListener("online", () => { attempt = 0; offline = false; if (paused !== "conflict") kick(); });
      addEventListener("offline", () => { offline = true; status(); });
      addEventListener("focus", async () => { if (paused === "login" && (await token(true))) back(); });
      setInterval(tick, 1000);
      if (pend.size) kick();
    }
    status();
  }
  init();
})();
