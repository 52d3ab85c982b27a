// The review screen: keyboard decisions, the next item preloaded while the officer looks at the
// current one, and the time spent on each decision measured here and sent as seconds_spent.
// Every sentence it shows comes from the page (#review-messages, #empty-template), rendered in
// the officer's language; its calls ask the registry for answers in that language too.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const stage = document.getElementById("stage");
  const statusLine = document.getElementById("status");
  const queueSize = document.getElementById("queue-size");
  const sessionCount = document.getElementById("session-count");
  const decidedToday = document.getElementById("decided-today");
  const sessionRate = document.getElementById("session-rate");
  const rejectKeys = JSON.parse(stage.dataset.rejectKeys);
  const correctDialog = document.getElementById("correct-dialog");
  const noteDialog = document.getElementById("note-dialog");
  const MAX_PUT_ASIDE = 40;
  const EMPTY = document.getElementById("empty-template").innerHTML;
  const MESSAGES = JSON.parse(document.getElementById("review-messages").textContent);
  const LANGUAGE = document.documentElement.lang;
  // Whole numbers with the page language's digit groups (1 234 in kk and ru, 1,234 in en).
  const counting = {
    format: (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, MESSAGES.number_group),
  };
  // The decisions of the day so far, as a number: the page shows it formatted.
  let decidedTodayCount = Number(decidedToday.dataset.count) || 0;

  // "Confirmed {plate}." with the values put in; the braces mark places, not text.
  const message = (key, values = {}) =>
    MESSAGES[key].replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  let current = null;    // the item on screen: {fixation_id, kind, plate, html, shownAt}
  let preloaded = null;  // the next item as the server sent it, images already requested
  let inFlight = false;  // one decision at a time keeps the skip lists exact
  let queued = null;     // a key pressed while the previous decision travels
  const putAside = [];
  let decided = 0;
  let secondsTotal = 0;

  const say = (text) => { statusLine.textContent = text; };

  function adoptScreen() {
    const article = stage.querySelector("article.item");
    current = article ? {
      fixation_id: article.dataset.fixationId,
      kind: article.dataset.kind,
      plate: article.dataset.plate,
      html: stage.innerHTML,
      shownAt: performance.now(),
    } : null;
  }

  function show(item) {
    stage.innerHTML = item ? item.html : EMPTY;
    adoptScreen();
  }

  function skipList() {
    const ids = [...putAside];
    if (current) ids.push(current.fixation_id);
    if (preloaded) ids.push(preloaded.fixation_id);
    return ids;
  }

  function preload(item) {
    preloaded = item;
    if (item) {
      for (const src of item.images) {
        const image = new Image();
        image.src = src;
      }
    }
  }

  async function call(url, options) {
    let response;
    try {
      response = await fetch(url, {
        credentials: "same-origin",
        ...options,
        headers: {
          Accept: "application/json",
          "Accept-Language": LANGUAGE,
          "X-CSRF-Token": csrf,
          ...(options && options.headers),
        },
      });
    } catch {
      throw new Error(message("unreachable"));
    }
    if (response.status === 401) {
      window.location.assign("/console/login?next=%2Fconsole%2Freview");
      throw new Error(message("signed_out"));
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const failure = new Error(body.detail || message("refused"));
      failure.status = response.status;
      throw failure;
    }
    return body;
  }

  async function fetchNext() {
    const query = new URLSearchParams();
    for (const id of skipList()) query.append("skip", id);
    const body = await call("/console/api/next?" + query.toString());
    queueSize.textContent = counting.format(body.queue);
    if (!current && body.next) {
      show(body.next);
      return fetchNext();
    }
    preload(body.next);
    return undefined;
  }

  async function decide(choice) {
    if (!current) return;
    if (inFlight) {
      queued = choice;
      return;
    }
    inFlight = true;
    const item = current;
    const seconds = Math.round(performance.now() - item.shownAt) / 1000;
    const following = preloaded;
    preloaded = null;
    show(following);  // the officer never waits for the registry
    const body = {
      fixation_id: item.fixation_id, kind: item.kind, seconds_spent: seconds,
      skip: skipList(), ...choice,
    };
    try {
      const answer = await call("/console/api/decisions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      decided += 1;
      decidedTodayCount += 1;
      secondsTotal += seconds;
      sessionCount.textContent = counting.format(decided);
      decidedToday.textContent = counting.format(decidedTodayCount);
      sessionRate.textContent = secondsTotal > 0 ? counting.format(decided * 3600 / secondsTotal) : "—";
      queueSize.textContent = counting.format(answer.queue);
      const { verdict, case_number: caseNumber } = answer.decided;
      if (verdict !== "confirmed") {
        say(message("rejected", { plate: item.plate }));
      } else if (caseNumber && item.kind === "review") {
        say(message("confirmed_case", { plate: item.plate, case: caseNumber }));
      } else {
        say(message("confirmed", { plate: item.plate }));
      }
      if (!current && answer.next) {
        show(answer.next);
        await fetchNext();
      } else {
        preload(answer.next);
      }
    } catch (failure) {
      if (failure.status === 409) {
        say(message("not_recorded", { reason: failure.message }));
      } else {
        // Put the item back on screen, with its clock still running.
        preloaded = current ? { ...current, images: [] } : preloaded;
        stage.innerHTML = item.html;
        current = item;
        say(message("not_recorded", { reason: failure.message }));
      }
    } finally {
      inFlight = false;
    }
    if (queued) {
      const next = queued;
      queued = null;
      await decide(next);
    }
  }

  function openCorrection() {
    if (!current) return;
    const field = document.getElementById("corrected-plate");
    field.value = current.plate;
    correctDialog.showModal();
    field.select();
  }

  document.getElementById("correct-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const plate = document.getElementById("corrected-plate").value.trim();
    const reason = document.getElementById("correction-reason").value.trim();
    correctDialog.close();
    decide({ action: "confirm", corrected_plate: plate, correction_reason: reason });
  });

  document.getElementById("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const note = document.getElementById("reject-note").value.trim();
    noteDialog.close();
    decide({ action: "reject", reason: "other", note });
  });

  // The key the officer pressed, as printed on it: with a Russian or Kazakh layout active, P
  // types "з" and the digit row types letters (Kazakh), so a key the shortcuts do not know by
  // what it typed is taken by its place on the keyboard (event.code).
  const SHORTCUTS = new Set(["Enter", "1", "2", "3", "4", "5", "6", "7", "8", "9", "p", "z", "s", "r"]);
  function keyOf(event) {
    const typed = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (SHORTCUTS.has(typed)) return typed;
    const place = event.code || "";
    if (/^Digit\d$/.test(place)) return place.slice(5);
    if (/^Numpad\d$/.test(place)) return place.slice(6);
    if (/^Key[A-Z]$/.test(place)) return place.slice(3).toLowerCase();
    return typed;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest("input, textarea, select, button, a")) return;
    const key = keyOf(event);
    if (key === "Enter") {
      event.preventDefault();
      decide({ action: "confirm" });
    } else if (Object.prototype.hasOwnProperty.call(rejectKeys, key)) {
      event.preventDefault();
      if (rejectKeys[key] === "other") {
        document.getElementById("reject-note").value = "";
        noteDialog.showModal();
      } else {
        decide({ action: "reject", reason: rejectKeys[key] });
      }
    } else if (key === "p") {
      event.preventDefault();
      openCorrection();
    } else if (key === "z") {
      const frame = stage.querySelector("figure.frame");
      if (frame) frame.classList.toggle("zoomed");
    } else if (key === "s" && current && !inFlight) {
      putAside.push(current.fixation_id);
      if (putAside.length > MAX_PUT_ASIDE) putAside.shift();  // the server takes 50 ids at most
      const following = preloaded;
      preloaded = null;
      show(following);
      say(message("put_aside"));
      fetchNext().catch((failure) => say(failure.message));
    } else if (key === "r" && !current) {
      fetchNext().catch((failure) => say(failure.message));
    }
  });

  adoptScreen();
  fetchNext().catch((failure) => say(message("load_failed", { reason: failure.message })));
})();
