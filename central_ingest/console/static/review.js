// The review screen: keyboard decisions, the next item preloaded while the officer looks at the
// current one, and the time spent on each decision measured here and sent as seconds_spent.
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
  const EMPTY = '<section class="panel empty" id="empty"><h1>Nothing waits for review</h1>' +
    "<p>New fixations appear here as cameras send them; press <kbd>R</kbd> to look again.</p></section>";

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
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", "X-CSRF-Token": csrf, ...(options && options.headers) },
    });
    if (response.status === 401) {
      window.location.assign("/console/login?next=%2Fconsole%2Freview");
      throw new Error("signed out");
    }
    const body = await response.json().catch(() => ({ detail: response.statusText }));
    if (!response.ok) {
      const failure = new Error(body.detail || "the registry refused the request");
      failure.status = response.status;
      throw failure;
    }
    return body;
  }

  async function fetchNext() {
    const query = new URLSearchParams();
    for (const id of skipList()) query.append("skip", id);
    const body = await call("/console/api/next?" + query.toString());
    queueSize.textContent = body.queue;
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
      secondsTotal += seconds;
      sessionCount.textContent = decided;
      decidedToday.textContent = Number(decidedToday.textContent) + 1;
      sessionRate.textContent = secondsTotal > 0 ? Math.round(decided * 3600 / secondsTotal) : "—";
      queueSize.textContent = answer.queue;
      const verdict = answer.decided.verdict;
      say(`${verdict === "confirmed" ? "Confirmed" : "Rejected"} ${item.plate}` +
        (answer.decided.case_number && item.kind === "review" ? `: case ${answer.decided.case_number}` : ""));
      if (!current && answer.next) {
        show(answer.next);
        await fetchNext();
      } else {
        preload(answer.next);
      }
    } catch (failure) {
      if (failure.status === 409) {
        say(`Not recorded: ${failure.message}`);
      } else {
        // Put the item back on screen, with its clock still running.
        preloaded = current ? { ...current, images: [] } : preloaded;
        stage.innerHTML = item.html;
        current = item;
        say(`Not recorded: ${failure.message}`);
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

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest("input, textarea, select, button, a")) return;
    const key = event.key;
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
    } else if (key === "p" || key === "P") {
      event.preventDefault();
      openCorrection();
    } else if (key === "z" || key === "Z") {
      const frame = stage.querySelector("figure.frame");
      if (frame) frame.classList.toggle("zoomed");
    } else if ((key === "s" || key === "S") && current && !inFlight) {
      putAside.push(current.fixation_id);
      if (putAside.length > MAX_PUT_ASIDE) putAside.shift();  // the server takes 50 ids at most
      const following = preloaded;
      preloaded = null;
      show(following);
      say("Put aside for now.");
      fetchNext().catch((failure) => say(failure.message));
    } else if ((key === "r" || key === "R") && !current) {
      fetchNext().catch((failure) => say(failure.message));
    }
  });

  adoptScreen();
  fetchNext().catch((failure) => say(`Could not load the next item: ${failure.message}`));
})();
