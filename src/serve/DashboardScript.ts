/**
 * The dashboard page's script, served as `/assets/dashboard.js` (see `DashboardPage`): plain
 * browser JavaScript, no framework and no build step, run under the page's strict
 * Content-Security-Policy. It reads the JSON API of the same server (`/api/dashboard`,
 * `/api/users`), refreshes every 5 s while the tab is visible (the next refresh is scheduled when
 * one ends, so a slow server is never asked twice at once), and writes data into the DOM as text
 * only (`textContent`, SVG attributes): a name or an e-mail address is never parsed as markup.
 *
 * When the server asks for an API token (401/403), the page shows a token field; the token is kept
 * in the tab's sessionStorage and sent as `Authorization: Bearer`, never in a URL.
 *
 * The source is a string (the CLI is a single bundle): it must not hold a backtick or a dollar sign
 * followed by a brace, hence string concatenation throughout.
 */
export const javascript = String.raw`"use strict";
(function () {
  const REFRESH_MS = 5000;
  const TIMEOUT_MS = 15000;
  const PAGE_SIZE = 12;
  const TOKEN_KEY = "dbscope.apiToken";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function byTestId(id) {
    const element = document.querySelector("[data-testid=\"" + id + "\"]");
    if (element === null) throw new Error("dashboard: the page has no element " + id);
    return element;
  }

  const ui = {
    body: document.body,
    status: byTestId("status"),
    statusText: byTestId("status-text"),
    banner: byTestId("error-banner"),
    bannerTitle: byTestId("error-title"),
    bannerMessage: byTestId("error-message"),
    tokenPanel: byTestId("token-panel"),
    tokenForm: byTestId("token-form"),
    tokenInput: byTestId("token-input"),
    tokenMessage: byTestId("token-message"),
    tokenState: byTestId("token-state"),
    tokenForget: byTestId("token-forget"),
    total: byTestId("total-users"),
    average: byTestId("average-age"),
    youngest: byTestId("youngest-age"),
    oldest: byTestId("oldest-age"),
    over40: byTestId("users-over-40"),
    over40Note: byTestId("users-over-40-note"),
    queryTime: byTestId("query-time"),
    chart: byTestId("age-chart"),
    domains: byTestId("top-domains"),
    filterForm: byTestId("filter-form"),
    filterInput: byTestId("filter-older-than"),
    filterClear: byTestId("filter-clear"),
    filterMessage: byTestId("filter-message"),
    table: byTestId("users-table"),
    rows: byTestId("users-rows"),
    previous: byTestId("page-previous"),
    next: byTestId("page-next"),
    pageInfo: byTestId("page-info"),
    addForm: byTestId("add-user-form"),
    addName: byTestId("add-user-name"),
    addEmail: byTestId("add-user-email"),
    addAge: byTestId("add-user-age"),
    addSubmit: byTestId("add-user-submit"),
    addMessage: byTestId("add-user-message")
  };

  // ---------------------------------------------------------------- the API

  /** A request that did not give the expected JSON: unreachable (no answer), auth (401/403) or http. */
  class ApiError extends Error {
    constructor(kind, status, message) {
      super(message);
      this.kind = kind;
      this.status = status;
    }
  }

  function readToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (error) {
      return "";
    }
  }

  let token = readToken();

  function setToken(value) {
    token = value;
    try {
      if (value === "") window.sessionStorage.removeItem(TOKEN_KEY);
      else window.sessionStorage.setItem(TOKEN_KEY, value);
    } catch (error) {
      // Storage refused (a privacy mode): the token lives as long as the page.
    }
    ui.tokenState.hidden = token === "";
  }

  /** The API's error as one line: its message, or the first issue of a body it could not decode. */
  function describeError(body, response) {
    if (body !== null && typeof body === "object") {
      const issue = Array.isArray(body.issues) ? body.issues[0] : undefined;
      if (issue !== null && typeof issue === "object" && typeof issue.message === "string") {
        const path = Array.isArray(issue.path) ? issue.path.join(".") : "";
        return (path === "" ? "" : path + ": ") + issue.message;
      }
      if (typeof body.message === "string" && body.message !== "") return body.message;
    }
    return "the server answered " + response.status + (response.statusText ? " " + response.statusText : "");
  }

  /** GET (or send body as JSON) to this server's API; resolves with the JSON answer. */
  async function api(path, options) {
    const init = options || {};
    const headers = new Headers({ "Accept": "application/json" });
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    if (token !== "") headers.set("Authorization", "Bearer " + token);
    const controller = new AbortController();
    const timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    let response;
    let text;
    try {
      response = await fetch(path, {
        method: init.method || "GET",
        headers: headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        cache: "no-store",
        credentials: "same-origin",
        redirect: "error",
        signal: controller.signal
      });
      text = await response.text();
    } catch (error) {
      throw new ApiError(
        "unreachable",
        0,
        controller.signal.aborted
          ? "the server did not answer within " + TIMEOUT_MS / 1000 + " seconds"
          : "the server cannot be reached"
      );
    } finally {
      window.clearTimeout(timer);
    }
    let body = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch (error) {
      body = null;
    }
    if (response.ok) {
      if (body === null || typeof body !== "object") {
        throw new ApiError("http", response.status, "the server's answer to " + path + " is not JSON");
      }
      return body;
    }
    // 401: a token is needed; 403 with a token: that token is refused. A 403 without one (a request
    // from elsewhere than this machine, or another site) is not about a token.
    const kind = response.status === 401 || (response.status === 403 && token !== "") ? "auth" : "http";
    throw new ApiError(kind, response.status, describeError(body, response));
  }

  // ---------------------------------------------------------------- DOM helpers

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const name of Object.keys(attributes)) node.setAttribute(name, String(attributes[name]));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const round = function (n) { return Math.round(n * 100) / 100; };
  const orDash = function (n) { return typeof n === "number" ? integer.format(n) : "–"; };
  const percent = function (part, whole) {
    return whole > 0 ? oneDecimal.format((part / whole) * 100) + "%" : "–";
  };
  /** The API's messages are lowercase phrases; on their own, they read as sentences. */
  const sentence = function (text) {
    const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(capitalised) ? capitalised : capitalised + ".";
  };
  const clock = function (date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  };

  // ---------------------------------------------------------------- the figures

  /** The smallest 1, 2 or 5 times a power of ten that is at least n. */
  function niceStep(n) {
    const power = Math.pow(10, Math.floor(Math.log10(Math.max(n, 1))));
    for (const factor of [1, 2, 2.5, 5, 10]) if (factor * power >= n) return factor * power;
    return 10 * power;
  }

  /** A bar with rounded top corners. */
  function barPath(x, y, width, height, radius) {
    const r = Math.min(radius, width / 2, height);
    return "M" + round(x) + "," + round(y + height) + "V" + round(y + r) +
      "Q" + round(x) + "," + round(y) + " " + round(x + r) + "," + round(y) +
      "H" + round(x + width - r) +
      "Q" + round(x + width) + "," + round(y) + " " + round(x + width) + "," + round(y + r) +
      "V" + round(y + height) + "Z";
  }

  /** The bands drawn last, and the width they were drawn for (redrawn when the chart is resized). */
  const drawn = { bands: [], width: 0 };

  function renderChart(bands) {
    drawn.bands = bands;
    drawChart();
  }

  /**
   * The age bands as SVG bars, every band from the youngest to the oldest (empty ones too). The
   * drawing is as wide as the chart's box, so that its text keeps its size on any screen.
   */
  function drawChart() {
    const bands = drawn.bands;
    const chart = ui.chart;
    const width = Math.max(240, Math.round(chart.getBoundingClientRect().width) || 580);
    const height = 210, left = 36, right = 4, top = 20, bottom = 26;
    drawn.width = width;
    chart.setAttribute("viewBox", "0 0 " + width + " " + height);
    chart.replaceChildren();
    const counts = new Map();
    for (const band of bands) counts.set(band.band, band.users);
    if (counts.size === 0) {
      chart.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No users yet"));
      return;
    }
    const first = Math.min.apply(null, Array.from(counts.keys()));
    const last = Math.max.apply(null, Array.from(counts.keys()));
    const columns = [];
    for (let band = first; band <= last; band += 10) columns.push({ band: band, users: counts.get(band) || 0 });
    const most = Math.max.apply(null, columns.map(function (column) { return column.users; }));
    const step = niceStep(most / 4);
    const scaleTop = Math.max(step, Math.ceil(most / step) * step);
    const plotHeight = height - top - bottom;
    const baseline = height - bottom;
    for (let value = 0; value <= scaleTop; value += step) {
      const y = round(baseline - (value / scaleTop) * plotHeight);
      chart.appendChild(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: value === 0 ? "axis-line" : "grid-line" }));
      chart.appendChild(svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "tick" }, integer.format(value)));
    }
    const slot = (width - left - right) / columns.length;
    const barWidth = Math.min(46, slot * 0.66);
    // "20–29" under each bar while they fit, the band's first age when they would overlap.
    const longLabels = slot >= 52;
    columns.forEach(function (column, index) {
      const barHeight = (column.users / scaleTop) * plotHeight;
      const x = left + index * slot + (slot - barWidth) / 2;
      const y = baseline - barHeight;
      const label = column.band + "–" + (column.band + 9);
      const shortLabel = longLabels ? label : String(column.band);
      const group = svg("g", { "data-testid": "age-band", "data-band": column.band, "data-users": column.users });
      if (column.users > 0) {
        const bar = svg("path", { d: barPath(x, y, barWidth, Math.max(barHeight, 1), 4), class: "bar" });
        bar.appendChild(svg("title", {}, label + " years: " + integer.format(column.users) + " users"));
        group.appendChild(bar);
        if (slot >= 24) group.appendChild(svg("text", {
          x: round(x + barWidth / 2), y: round(y - 6), "text-anchor": "middle", class: "bar-value", "data-testid": "age-band-users"
        }, integer.format(column.users)));
      }
      group.appendChild(svg("text", {
        x: round(x + barWidth / 2), y: baseline + 18, "text-anchor": "middle", class: "band-label"
      }, shortLabel));
      chart.appendChild(group);
    });
  }

  new ResizeObserver(function () {
    if (Math.round(ui.chart.getBoundingClientRect().width) !== drawn.width) drawChart();
  }).observe(ui.chart);

  function renderDomains(domains, total) {
    const items = domains.map(function (domain) {
      const item = element("li", "domain");
      item.setAttribute("data-testid", "domain-row");
      const name = element("span", "domain-name", domain.domain);
      name.title = domain.domain;
      name.setAttribute("data-testid", "domain-name");
      const count = element("span", "domain-count");
      const users = element("strong", "", integer.format(domain.users));
      users.setAttribute("data-testid", "domain-users");
      count.append(users, " · " + percent(domain.users, total));
      const share = svg("svg", { class: "domain-share", viewBox: "0 0 100 6", preserveAspectRatio: "none", "aria-hidden": "true" });
      share.append(
        svg("rect", { class: "track", width: 100, height: 6 }),
        svg("rect", { class: "fill", width: total > 0 ? round((domain.users / total) * 100) : 0, height: 6 })
      );
      item.append(name, count, share);
      return item;
    });
    ui.domains.replaceChildren(...(items.length > 0 ? items : [element("li", "domains-empty", "No users yet")]));
  }

  function isDashboard(body) {
    return body.summary !== null && typeof body.summary === "object" && Array.isArray(body.ageBands) &&
      Array.isArray(body.topDomains) && typeof body.usersOver40 === "number";
  }

  async function loadDashboard() {
    const body = await api("/api/dashboard");
    if (!isDashboard(body)) throw new ApiError("http", 200, "the dashboard's answer has an unexpected shape");
    const summary = body.summary;
    ui.total.textContent = orDash(summary.users);
    ui.average.textContent = typeof summary.average_age === "number" ? oneDecimal.format(summary.average_age) : "–";
    ui.youngest.textContent = orDash(summary.youngest);
    ui.oldest.textContent = orDash(summary.oldest);
    ui.over40.textContent = orDash(body.usersOver40);
    ui.over40Note.textContent = summary.users > 0
      ? percent(body.usersOver40, summary.users) + " of all users"
      : "of all users";
    ui.queryTime.textContent = typeof body.millis === "number"
      ? "Ten-year bands · 4 queries in " + oneDecimal.format(body.millis) + " ms"
      : "";
    renderChart(body.ageBands);
    renderDomains(body.topDomains, summary.users);
  }

  // ---------------------------------------------------------------- the users table

  /**
   * The page shown: its cursor (after, null for the first page), the cursors of the pages before it
   * (Previous pops one), the next page's cursor (null on the last page) and the filter. A load
   * commits them only when its rows arrive, and only if no later load started meanwhile.
   */
  const table = { after: null, stack: [], next: null, olderThan: null, rows: 0, seq: 0, busy: false, loaded: false };

  function pagePath(query) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (query.after !== null) params.set("after", query.after);
    if (query.olderThan !== null) params.set("olderThan", String(query.olderThan));
    return "/api/users?" + params.toString();
  }

  function renderPager() {
    const page = table.stack.length + 1;
    ui.previous.disabled = table.busy || table.stack.length === 0;
    ui.next.disabled = table.busy || table.next === null;
    const first = table.stack.length * PAGE_SIZE + 1;
    const range = table.rows === 0 ? "no users" : "users " + integer.format(first) + "–" + integer.format(first + table.rows - 1);
    const filter = table.olderThan === null ? "" : " · older than " + table.olderThan;
    ui.pageInfo.textContent = table.loaded ? "Page " + page + " · " + range + filter : "Loading…";
  }

  function renderRows(users) {
    const rows = users.map(function (user) {
      const row = element("tr");
      row.setAttribute("data-testid", "user-row");
      const id = element("td", "num id", String(user.user_id));
      const name = element("td", "name", user.name);
      name.title = user.name;
      const email = element("td", "email", user.email);
      email.title = user.email;
      const age = element("td", "num age", String(user.age));
      row.append(id, name, email, age);
      return row;
    });
    if (rows.length === 0) {
      const row = element("tr", "empty-row");
      const cell = element("td", "", table.olderThan === null ? "No users yet." : "No users older than " + table.olderThan + ".");
      cell.colSpan = 4;
      row.appendChild(cell);
      rows.push(row);
    }
    ui.rows.replaceChildren(...rows);
  }

  /** Loads a page (byUser: a click, which disables paging until it is done). */
  async function loadPage(query, byUser) {
    const seq = ++table.seq;
    if (byUser) {
      table.busy = true;
      ui.table.setAttribute("data-loading", "true");
      renderPager();
    }
    try {
      const body = await api(pagePath(query));
      if (seq !== table.seq) return;
      if (!Array.isArray(body.users)) throw new ApiError("http", 200, "the users page has an unexpected shape");
      table.after = query.after;
      table.stack = query.stack;
      table.olderThan = query.olderThan;
      table.next = typeof body.next === "string" ? body.next : null;
      table.rows = body.users.length;
      table.loaded = true;
      renderRows(body.users);
      ui.table.setAttribute("data-page", String(table.stack.length + 1));
      ui.table.setAttribute("data-after", query.after === null ? "" : query.after);
      ui.table.setAttribute("data-older-than", query.olderThan === null ? "" : String(query.olderThan));
    } finally {
      if (seq === table.seq) {
        table.busy = false;
        ui.table.setAttribute("data-loading", "false");
        renderPager();
      }
    }
  }

  const currentPage = function () {
    return { after: table.after, stack: table.stack, olderThan: table.olderThan };
  };

  // ---------------------------------------------------------------- state and errors

  let lastUpdated = null;
  let refreshes = 0;

  function setStatus(kind, text) {
    ui.status.setAttribute("data-status", kind);
    ui.statusText.textContent = text;
  }

  function showBanner(title, message) {
    ui.bannerTitle.textContent = title;
    ui.bannerMessage.textContent = message;
    ui.banner.hidden = false;
  }

  function showTokenPanel(error) {
    const wasHidden = ui.tokenPanel.hidden;
    ui.tokenMessage.textContent = sentence(token === "" ? error.message : "The token in use was refused: " + error.message);
    ui.tokenPanel.hidden = false;
    if (wasHidden) ui.tokenInput.focus();
  }

  const since = function () {
    return lastUpdated === null ? "" : " The figures below are from " + clock(lastUpdated) + ".";
  };

  /** Shows a failed request for what it is; anything else is a bug, rethrown. */
  function report(error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.kind === "auth") {
      refresher.blocked = true;
      ui.body.setAttribute("data-state", "auth");
      setStatus("auth", "API token needed");
      ui.banner.hidden = true;
      showTokenPanel(error);
    } else if (error.kind === "unreachable") {
      ui.body.setAttribute("data-state", "unreachable");
      setStatus("error", "Server unreachable");
      showBanner(
        "Cannot reach the dbscope server",
        "The page could not reach " + window.location.host + ": " + error.message +
          ". Is dbscope serve still running? Retrying every " + REFRESH_MS / 1000 + " seconds." + since()
      );
    } else {
      ui.body.setAttribute("data-state", "error");
      setStatus("error", "Server error");
      showBanner("The server answered with an error (" + error.status + ")", sentence(error.message) + since());
    }
  }

  function markLive() {
    lastUpdated = new Date();
    refreshes += 1;
    ui.banner.hidden = true;
    ui.body.setAttribute("data-state", "ready");
    ui.body.setAttribute("data-refreshes", String(refreshes));
    setStatus("live", "Live · updated " + clock(lastUpdated));
  }

  // ---------------------------------------------------------------- refreshing

  /** One refresh at a time; a request during one runs again right after it; none while hidden. */
  const refresher = { timer: 0, running: false, again: false, blocked: false };

  function schedule() {
    window.clearTimeout(refresher.timer);
    refresher.timer = 0;
    if (!document.hidden && !refresher.blocked) refresher.timer = window.setTimeout(requestRefresh, REFRESH_MS);
  }

  function requestRefresh() {
    if (refresher.running) {
      refresher.again = true;
      return;
    }
    window.clearTimeout(refresher.timer);
    refresher.timer = 0;
    if (document.hidden) {
      setStatus("paused", lastUpdated === null ? "Paused" : "Paused · updated " + clock(lastUpdated));
      return;
    }
    refresher.running = true;
    // A page the user asked for is on its way: it brings fresh rows, the refresh leaves it alone.
    const page = table.busy ? Promise.resolve() : loadPage(currentPage(), false);
    Promise.allSettled([loadDashboard(), page]).then(function (results) {
      const failed = results.find(function (result) { return result.status === "rejected"; });
      if (failed === undefined) markLive();
      else report(failed.reason);
    }).finally(function () {
      refresher.running = false;
      if (refresher.again) {
        refresher.again = false;
        requestRefresh();
      } else {
        schedule();
      }
    });
  }

  // ---------------------------------------------------------------- events

  function page(query) {
    loadPage(query, true).catch(report);
  }

  ui.next.addEventListener("click", function () {
    if (table.busy || table.next === null) return;
    page({ after: table.next, stack: table.stack.concat([table.after]), olderThan: table.olderThan });
  });

  ui.previous.addEventListener("click", function () {
    if (table.busy || table.stack.length === 0) return;
    page({ after: table.stack[table.stack.length - 1], stack: table.stack.slice(0, -1), olderThan: table.olderThan });
  });

  function applyFilter(olderThan) {
    ui.filterMessage.hidden = true;
    ui.filterInput.removeAttribute("aria-invalid");
    loadPage({ after: null, stack: [], olderThan: olderThan }, true).then(function () {
      ui.filterClear.hidden = table.olderThan === null;
    }, function (error) {
      if (error instanceof ApiError && error.kind === "http" && error.status === 400) {
        ui.filterMessage.textContent = error.message;
        ui.filterMessage.hidden = false;
        ui.filterInput.setAttribute("aria-invalid", "true");
      } else {
        report(error);
      }
    });
  }

  ui.filterForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = ui.filterInput.value.trim();
    // The API checks the number (and says what it accepts); the page only sends what was typed.
    applyFilter(text === "" ? null : text);
  });

  ui.filterClear.addEventListener("click", function () {
    ui.filterInput.value = "";
    applyFilter(null);
  });

  function showAddMessage(kind, text) {
    ui.addMessage.setAttribute("data-kind", kind);
    ui.addMessage.textContent = text;
    ui.addMessage.hidden = false;
  }

  /** The field an API message is about, to mark it invalid. */
  function fieldOf(error) {
    if (error.status === 409 || /^e-?mail/i.test(error.message)) return ui.addEmail;
    if (/^age/i.test(error.message)) return ui.addAge;
    if (/^name/i.test(error.message)) return ui.addName;
    return null;
  }

  let adding = false;

  ui.addForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (adding) return;
    for (const input of [ui.addName, ui.addEmail, ui.addAge]) input.removeAttribute("aria-invalid");
    const ageText = ui.addAge.value.trim();
    const age = ageText === "" ? NaN : Number(ageText);
    if (!Number.isFinite(age)) {
      ui.addAge.setAttribute("aria-invalid", "true");
      showAddMessage("error", "Enter the age as a whole number from 0 to 150.");
      return;
    }
    const user = { name: ui.addName.value.trim(), email: ui.addEmail.value.trim(), age: age };
    adding = true;
    ui.addSubmit.disabled = true;
    ui.addForm.setAttribute("aria-busy", "true");
    api("/api/users", { method: "POST", body: user }).then(function (created) {
      ui.addForm.reset();
      showAddMessage("ok", "Added " + created.name + " (id " + created.user_id + ").");
      requestRefresh();
    }, function (error) {
      if (!(error instanceof ApiError)) throw error;
      showAddMessage("error", "Not added: " + error.message);
      if (error.kind === "http") {
        const field = fieldOf(error);
        if (field !== null) field.setAttribute("aria-invalid", "true");
      } else if (error.kind === "auth") {
        // Reads may be public while writes need the token: the refreshes go on.
        showTokenPanel(error);
      } else {
        report(error);
      }
    }).finally(function () {
      adding = false;
      ui.addSubmit.disabled = false;
      ui.addForm.removeAttribute("aria-busy");
    });
  });

  ui.tokenForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const value = ui.tokenInput.value.trim();
    if (value === "") return;
    setToken(value);
    ui.tokenInput.value = "";
    ui.tokenPanel.hidden = true;
    refresher.blocked = false;
    requestRefresh();
  });

  ui.tokenForget.addEventListener("click", function () {
    setToken("");
    refresher.blocked = false;
    requestRefresh();
  });

  // Hidden: the timer is cleared (and the status says paused); visible again: a refresh at once.
  document.addEventListener("visibilitychange", requestRefresh);
  window.addEventListener("online", requestRefresh);

  setToken(token);
  ui.table.setAttribute("data-page-size", String(PAGE_SIZE));
  renderPager();
  requestRefresh();
})();
`
