// pfdrill dashboard: follows /events (server-sent events) and draws the drill or game day live.
// Served from the package; it fetches nothing but this server's own /api and /events.
"use strict";

const PHASES = ["preflight", "inject", "detect", "classify", "respond", "mitigate", "recover",
  "criteria", "restore"];
const MEASURES = ["detection", "declaration", "mitigation", "recovery"];
const FEED_LIMIT = 400;

const token = new URLSearchParams(location.search).get("token") || "";
const view = {
  role: "responder", controls: false, notes: false, hosted: false, source: null,
  drills: {},          // "run/drill" -> {spec, t0, phases, open, injectedAt, verdict, restore}
  current: null,       // key of the drill on show
  gameday: null,       // the game day's state as this role may see it
  alerts: {},          // alert name -> {state, message, wall}
  notifications: [],
  series: null,
  latency: [],         // seconds from publication to this browser, per live event
  opened: Date.now() / 1000,
};
window.pfdrill = view;  // for tests and curious facilitators

const $ = (id) => document.getElementById(id);
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};
const secs = (v) => (v === null || v === undefined) ? "—" : `${v.toFixed(1)} s`;
const clock = (wall) => new Date(wall * 1000).toLocaleTimeString([], {hour12: false});
const mmss = (s) => {
  const t = Math.max(0, Math.floor(s));
  return `${String(Math.floor(t / 60)).padStart(2, "0")}:${String(t % 60).padStart(2, "0")}`;
};
const now = () => Date.now() / 1000;

// --- the feed ------------------------------------------------------------------------------
function addFeed(ev, kind, tag, message, wall, level, source) {
  const item = el("li", {"data-kind": kind, "data-source": source || "drill",
    "data-seq": ev.seq || "", class: level || ""},
    el("time", {text: clock(wall)}), el("span", {class: "tag", text: tag}),
    el("span", {class: "msg", text: message}));
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > FEED_LIMIT) feed.lastElementChild.remove();
}

// --- handling one live event ---------------------------------------------------------------
function drillKey(ev) { return `${ev.run_id}/${ev.drill}`; }

function handle(ev) {
  if (ev.wall && ev.wall >= view.opened) view.latency.push(now() - ev.wall);  // live, not replayed
  const key = drillKey(ev);
  let d = view.drills[key];
  switch (ev.kind) {
    case "drill_started": {
      view.drills[key] = d = {spec: ev.spec, name: ev.drill, run: ev.run_id, phases: {},
        open: null, injectedAt: null, verdict: null, restore: null,
        t0: Date.parse(ev.started_wall) / 1000};
      view.current = key;
      addFeed(ev, "drill_started", ev.drill, `started (run ${ev.run_id})`, ev.wall, "", "drill");
      break;
    }
    case "phase_started":
      if (d) { d.open = {phase: ev.phase, budget: ev.budget_s, since: ev.wall}; }
      break;
    case "phase_completed":
      if (d && ev.record) { d.phases[ev.record.phase] = ev.record; d.open = null; }
      break;
    case "event": {
      const e = ev.event;
      if (!e) break;
      if (d && e.kind === "injected") d.injectedAt = e.at;
      const wall = d ? d.t0 + e.at : ev.wall;
      if (e.kind === "phase_started" || e.kind === "phase_completed") break;  // the card shows those
      const level = e.kind === "error" || e.kind === "interrupted" ? "critical" : "";
      addFeed(ev, e.kind, `${ev.drill}: ${e.kind.replace("_", " ")}`, e.message, wall, level, "drill");
      break;
    }
    case "restored":
      if (d) d.restore = ev.restore;
      break;
    case "drill_finished":
      if (d) { d.verdict = ev.verdict; d.headline = ev.headline; d.open = null; }
      addFeed(ev, "drill_finished", ev.drill, ev.headline || ev.verdict, ev.wall,
        ev.verdict === "passed" ? "" : "warning", "drill");
      break;
    case "gameday":
      noteChanges(view.gameday, ev.gameday, ev);
      view.gameday = ev.gameday;
      if (ev.message) addFeed(ev, "gameday", "game day", ev.message, ev.wall, "", "facilitator");
      renderControls();
      if (view.hosted && ev.gameday && ev.gameday.status === "finished") ended();
      break;
    case "observed":
      observed(ev);
      break;
    case "series":
      view.series = ev;
      renderCurves();
      break;
  }
  renderNow();
}

function noteChanges(before, after, ev) {
  // hints and notes arrive as a new game-day state: show what is new
  if (!after) return;
  const seenNotes = before ? before.notes.length : 0;
  for (const n of after.notes.slice(seenNotes)) {
    addFeed(ev, "note", `note: ${n.author}`, n.text, n.wall, "", "observer");
  }
  for (const st of after.injects) {
    const old = before ? before.injects.find((i) => i.name === st.name) : null;
    for (const h of st.hints.slice(old ? old.hints.length : 0)) {
      addFeed(ev, "hint", "hint", h.text, h.wall, "warning", "facilitator");
    }
  }
}

function observed(ev) {
  const o = ev.observed;
  if (!o) return;
  const tag = {prometheus: "alert", sink: "notification", kubernetes: "kubernetes",
    responder: "responder", incidents: "incident store"}[o.source] || o.source;
  addFeed(ev, o.kind, `${tag}: ${o.subject}`, o.message, o.wall, o.level, o.source);
  if (o.source === "prometheus" && o.kind !== "unavailable") {
    view.alerts[o.subject] = {state: o.kind, message: o.message, wall: o.wall};
    renderAlerts();
  } else if (o.source === "sink") {
    view.notifications.unshift(o);
    view.notifications = view.notifications.slice(0, 50);
    renderNotifications();
  }
}

// --- rendering -----------------------------------------------------------------------------
function renderAlerts() {
  const list = $("alert-list");
  const names = Object.keys(view.alerts).sort((a, b) => {
    const rank = (s) => ({firing: 0, pending: 1}[s] ?? 2);
    return rank(view.alerts[a].state) - rank(view.alerts[b].state) || a.localeCompare(b);
  });
  list.replaceChildren(...names.map((n) => {
    const a = view.alerts[n];
    return el("li", {class: a.state, "data-alert": n, "data-state": a.state},
      `${a.state.toUpperCase()} ${n}`, el("span", {class: "muted", text: ` ${clock(a.wall)}`}));
  }));
  if (!names.length) list.append(el("li", {class: "muted", text: "none yet"}));
}

function renderNotifications() {
  const list = $("notification-list");
  list.replaceChildren(...view.notifications.map((o) => el("li", {"data-channel": o.subject},
    el("span", {class: "muted", text: `${clock(o.wall)} `}), o.message)));
}

function meter(name, elapsed, budget, state, valueText) {
  const frac = budget > 0 ? Math.min(1, (elapsed || 0) / budget) : 1;
  const fill = el("div", {class: `fill ${state}`});
  fill.style.width = `${(frac * 100).toFixed(1)}%`;
  return el("div", {class: "meter", "data-measure": name, "data-state": state},
    el("span", {class: "name", text: name}), el("div", {class: "track"}, fill),
    el("span", {class: "val", text: valueText}));
}

function renderDrill(d) {
  const box = el("div", {"data-drill": d.name});
  const verdict = d.verdict ? el("span", {class: `badge ${d.verdict}`, text: d.verdict}) : null;
  box.append(el("p", {class: "headline"}, `${d.name} `, verdict));
  if (d.spec && d.spec.fault && d.spec.fault.name !== "hidden") {
    const params = Object.entries(d.spec.fault.params || {}).map(([k, v]) => `${k}=${v}`).join(", ");
    box.append(el("p", {class: "sub", text: `fault ${d.spec.fault.name}${params ? `(${params})` : ""}`
      + ` → expect ${d.spec.expected_severity} via ${(d.spec.expected_alerts || []).join(", ")}`}));
  }
  for (const phase of PHASES) {
    const rec = d.phases[phase];
    if (rec) {
      const state = rec.status === "passed" ? "ok" : rec.status === "skipped" ? "skip" : "bad";
      const measured = rec.measured_s ?? (rec.ended_at - rec.started_at);
      box.append(meter(phase, measured, rec.budget_s, state,
        `${secs(measured)} / ${rec.budget_s} s`));
    } else if (d.open && d.open.phase === phase) {
      const elapsed = now() - d.open.since;
      box.append(meter(phase, elapsed, d.open.budget, elapsed > d.open.budget ? "over" : "",
        `${secs(elapsed)} / ${d.open.budget} s`));
    }
  }
  if (d.restore) {
    box.append(el("p", {class: d.restore.ok ? "ok" : "bad", "data-restore": d.restore.ok ? "ok" : "incomplete",
      text: d.restore.ok ? "✓ restored" : `✗ restore incomplete ${d.restore.reason || ""}`}));
  }
  return box;
}

function injectPlan(gd, name) { return gd.plan.injects.find((p) => p.drill.name === name); }

function gameTime(st, wall) {
  if (st.t0_wall === null || st.injected_at === null) return null;
  const start = st.t0_wall + st.injected_at;
  let paused = 0;
  for (const p of st.pauses) {
    const lo = Math.max(p.start, start), hi = Math.min(p.end === null ? wall : p.end, wall);
    paused += Math.max(0, hi - lo);
  }
  return Math.max(0, wall - start - paused);
}

function renderInject(gd, st) {
  const plan = injectPlan(gd, st.name);
  const box = el("div", {"data-inject": st.name, "data-status": st.status});
  const paused = st.pauses.length && st.pauses[st.pauses.length - 1].end === null;
  const end = st.ended_wall || (paused ? st.pauses[st.pauses.length - 1].start : now());
  const t = gameTime(st, end);
  box.append(el("p", {class: "headline"}, `${plan ? plan.title : st.name} `,
    el("span", {class: `badge ${paused ? "paused" : st.status}`, text: paused ? "paused" : st.status}),
    t === null ? null : el("span", {class: "clock", text: `  ${mmss(t)} game time`})));
  if (plan && plan.drill.name !== plan.title) box.append(el("p", {class: "sub", text: plan.drill.name}));
  if (plan && plan.brief) box.append(el("p", {class: "brief", text: plan.brief}));
  for (const m of MEASURES) {
    const budget = (plan ? plan.budgets[m] : 0) + st.extensions.filter((e) => e.measure === m)
      .reduce((a, e) => a + e.seconds, 0);
    const got = st.milestones.find((x) => x.measure === m);
    let elapsed, state, text;
    if (got) {
      elapsed = gameTime(st, st.t0_wall + got.at);
      state = elapsed > budget ? "over" : "ok";
      text = `${secs(elapsed)} / ${budget} s`;
    } else {
      elapsed = t; state = t !== null && t > budget ? "over" : "";
      text = `… / ${budget} s`;
    }
    box.append(meter(m, elapsed, budget, state, text));
  }
  for (const h of st.hints.slice(-2)) box.append(el("p", {class: "brief", "data-hint": "",
    text: `Hint: ${h.text}`}));
  if (st.declaration) {
    box.append(el("p", {"data-declared": st.declaration.severity},
      `Declared ${st.declaration.severity} (incident ${st.declaration.incident_id})`
      + (st.declaration.severity_now !== st.declaration.severity ? `, now ${st.declaration.severity_now}` : "")));
  }
  if (plan && plan.drill.fault.name !== "hidden") {
    const rb = plan.drill.runbook;
    const match = st.declaration ? (st.declaration.severity === plan.drill.expected_severity ? " ✓" : " ✗") : "";
    box.append(el("div", {class: "answer", "data-expected": plan.drill.expected_severity},
      el("div", {text: `Expected ${plan.drill.expected_severity}${match} — alerts ${plan.drill.expected_alerts.join(", ")}`}),
      el("div", {class: "muted", text: rb ? `runbook: ${[...rb.respond, ...rb.recover].join(" · ")}` : ""}),
      el("div", {class: "muted", text: st.revealed ? "revealed to the room" : "hidden from responders"})));
  } else {
    box.append(el("p", {class: "muted", text: "Expected severity and runbook sections: hidden until the facilitator reveals them."}));
  }
  if (st.status === "running" && st.milestones.some((m) => m.measure === "recovery")) {
    box.append(el("p", {class: "ok", "data-settling": "",
      text: `Recovered: restored when the facilitator stops the inject (at the latest ${
        plan ? plan.settle_s : 60} s after recovery).`}));
  }
  if (st.restored !== null && st.restored !== undefined) {
    box.append(el("p", {class: st.restored ? "ok" : "bad", "data-restore": st.restored ? "ok" : "incomplete",
      text: `${st.ended || st.status}: ${st.restored ? "✓ restored" : "✗ restore incomplete"}`}));
  }
  return box;
}

function renderNow() {
  const box = $("current");
  const parts = [];
  const d = view.current ? view.drills[view.current] : null;
  // a game day that has ended gives way to a drill that started since
  const gd = view.gameday && (view.gameday.status !== "finished" || !d || d.run === view.gameday.id)
    ? view.gameday : null;
  if (gd) {
    parts.push(el("p", {class: "sub", text: `${gd.plan.title}${gd.plan.facilitator ? ` — facilitated by ${gd.plan.facilitator}` : ""}${gd.status === "finished" ? " — ended" : ""}`}));
    const name = gd.current || [...gd.injects].reverse().find((i) => i.status !== "pending")?.name;
    const st = gd.injects.find((i) => i.name === name);
    if (st) parts.push(renderInject(gd, st));
    parts.push(el("div", {class: "injects"}, ...gd.injects.map((i) => {
      const plan = injectPlan(gd, i.name);
      return el("span", {class: `badge ${i.status}`, "data-inject-status": i.status,
        text: `${plan ? plan.title : i.name}: ${i.status.replace("_", " ")}`});
    })));
  }
  if (d && !(gd && d.run === gd.id)) parts.push(renderDrill(d));
  if (parts.length) box.replaceChildren(...parts);
  $("clock").textContent = new Date().toLocaleTimeString([], {hour12: false});
}

function renderCurves() {
  const ev = view.series;
  const box = $("curves");
  if (!ev || !ev.series.length) return;
  const d = view.drills[drillKey(ev)];
  box.replaceChildren(...ev.series.map((s) => curve(s, d ? d.injectedAt : null)));
}

function curve(s, injectedAt) {
  const W = 760, H = 170, L = 56, R = 12, T = 26, B = 24;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "curve");
  svg.setAttribute("data-series", s.name);
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add("text", {x: L, y: 17}, s.name);
  const pts = s.points;
  if (!pts.length) { add("text", {x: L, y: H / 2}, "no data"); return svg; }
  const xs = pts.map((p) => p.at), ys = pts.map((p) => p.value);
  const x0 = Math.min(...xs, injectedAt ?? Infinity), x1 = Math.max(...xs, x0 + 1);
  const y0 = Math.min(0, ...ys), y1 = Math.max(...ys, y0 + 1e-9);
  const X = (v) => L + (W - L - R) * (v - x0) / (x1 - x0);
  const Y = (v) => H - B - (H - T - B) * (v - y0) / (y1 - y0);
  add("line", {class: "grid", x1: L, y1: Y(y0), x2: W - R, y2: Y(y0)});
  add("text", {x: 4, y: Y(y1) + 4}, y1.toPrecision(3));
  add("text", {x: 4, y: Y(y0) + 4}, y0.toPrecision(3));
  add("polyline", {class: "line", points: pts.map((p) => `${X(p.at).toFixed(1)},${Y(p.value).toFixed(1)}`).join(" ")});
  if (injectedAt !== null && injectedAt !== undefined) {
    add("line", {class: "inj", x1: X(injectedAt), y1: T, x2: X(injectedAt), y2: H - B});
    add("text", {x: X(injectedAt) + 4, y: H - 6}, "injection");
  }
  return svg;
}

// --- the facilitator's controls and the observers' notes ------------------------------------
function renderControls() {
  const gd = view.gameday;
  $("controls").hidden = !(view.controls && gd);
  $("notes").hidden = !(view.notes && gd);
  if (!gd || !view.controls) return;
  const buttons = gd.injects.map((st) => {
    const plan = injectPlan(gd, st.name);
    const b = el("button", {class: "start", "data-action": "inject", "data-drill": st.name,
      text: `Start ${plan ? plan.title : st.name} (${st.name})`});
    b.disabled = Boolean(gd.current) || !["pending", "not_started"].includes(st.status)
      || gd.status === "finished";
    return b;
  });
  $("inject-buttons").replaceChildren(...buttons);
  const cur = gd.current ? gd.injects.find((i) => i.name === gd.current) : null;
  const plan = cur ? injectPlan(gd, cur.name) : null;
  const choice = $("hint-choice");
  const hints = plan ? plan.hints : [];
  if (choice.dataset.for !== (cur ? cur.name : "")) {
    choice.dataset.for = cur ? cur.name : "";
    choice.replaceChildren(el("option", {value: "", text: hints.length ? "prepared hints…" : "no prepared hints"}),
      ...hints.map((h, i) => el("option", {value: String(i + 1), text: `${i + 1}. ${h}`})));
  }
}

async function command(body) {
  const status = $("control-status");
  status.className = "status";
  status.textContent = `${body.action}…`;
  try {
    const res = await fetch("/api/command", {method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": `Bearer ${token}`},
      body: JSON.stringify(body)});
    const data = await res.json();
    status.textContent = res.ok ? data.message : data.error;
    if (!res.ok) status.className = "status error";
  } catch (err) {
    status.textContent = `not sent: ${err}`;
    status.className = "status error";
  }
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  const action = b.dataset.action;
  const gd = view.gameday;
  if (action === "inject") return command({action, drill: b.dataset.drill});
  if (action === "extend") return command({action, seconds: 60});
  if (action === "reveal") return command({action, drill: gd && gd.current ? gd.current : ""});
  if (action === "hint") {
    const n = $("hint-choice").value;
    const text = $("hint-text").value;
    $("hint-text").value = "";
    return command(n ? {action, hint: Number(n)} : {action, text});
  }
  if (action === "note") {
    const text = $("note-text").value;
    $("note-text").value = "";
    return command({action, text, author: $("note-author").value});
  }
  return command({action});
});

// --- connecting ----------------------------------------------------------------------------
function ended() {
  // a game day's own page: its server goes away with the day, so stop following
  if (view.source) view.source.close();
  $("conn").textContent = "game day ended";
  $("conn").className = "conn down";
}

async function start() {
  const q = token ? `?token=${encodeURIComponent(token)}` : "";
  try {
    const res = await fetch(`/api/state${q}`);
    if (res.ok) {
      const s = await res.json();
      view.role = s.role; view.controls = s.controls; view.notes = s.notes;
      view.hosted = s.hosted;
      if (s.gameday) view.gameday = s.gameday;
    }
  } catch (err) { /* the event stream below reconnects by itself */ }
  const role = $("role");
  // with no game day to hide anything from, a page without a token is just watching
  role.textContent = view.role === "responder" && !view.hosted && !view.gameday ? "viewer" : view.role;
  role.className = `badge ${view.role}`;
  renderControls();
  renderNow();
  const source = new EventSource(`/events${q}`);
  view.source = source;
  source.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn up"; };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) return;
    $("conn").textContent = "reconnecting"; $("conn").className = "conn down";
  };
  source.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    ev.seq = m.lastEventId;
    handle(ev);
  };
  setInterval(renderNow, 1000);
}

start();
