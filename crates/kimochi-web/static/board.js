// The supervisor board's live part: listens to /api/v1/events (server-sent events) and adds new
// contacts and crisis-word alerts to the page without a reload. Entries are cloned from the
// page's <template>s and filled with textContent only: what a customer wrote is never parsed as
// HTML. A file of its own because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board || typeof EventSource === "undefined") {
    return;
  }
  var status = document.getElementById("board-status");
  var channels = JSON.parse(board.getAttribute("data-channels") || "{}");
  var severities = JSON.parse(board.getAttribute("data-severities") || "{}");
  var MAX_ENTRIES = 100;

  function setStatus(name) {
    if (status) {
      status.textContent = status.getAttribute("data-" + name) || "";
    }
  }

  // `2026-12-02T16:20:00+09:00` → `16:20` (the server writes JST).
  function clock(iso) {
    return typeof iso === "string" && iso.length >= 16 ? iso.substring(11, 16) : "";
  }

  function fill(root, field, text) {
    var element = root.querySelector('[data-field="' + field + '"]');
    if (element) {
      element.textContent = text == null ? "" : String(text);
    }
    return element;
  }

  function prepend(listId, emptyId, item) {
    var list = document.getElementById(listId);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_ENTRIES) {
      list.removeChild(list.lastChild);
    }
    var empty = document.getElementById(emptyId);
    if (empty) {
      empty.hidden = true;
    }
  }

  function customerLink(root, id, name) {
    var link = fill(root, "customer", name);
    if (link) {
      link.setAttribute("href", "/agent/customers/" + encodeURIComponent(String(id)));
    }
  }

  function addContact(contact) {
    var item = document.getElementById("contact-template").content.firstElementChild.cloneNode(true);
    fill(item, "time", clock(contact.started_at));
    fill(item, "channel", channels[contact.channel] || contact.channel);
    customerLink(item, contact.customer_id, contact.customer_name);
    fill(item, "by", contact.recorded_by);
    fill(item, "reason", contact.reason);
    fill(item, "text", contact.text);
    if (contact.crisis_words > 0) {
      item.querySelector('[data-field="crisis"]').hidden = false;
    }
    prepend("contact-feed", "contacts-empty", item);
    document.body.dispatchEvent(new CustomEvent("kimochi-contact"));
  }

  function addAlert(alert) {
    if (document.querySelector('[data-alert-id="' + String(Number(alert.id)) + '"]')) {
      return; // already shown (the page was rendered after it was stored)
    }
    var item = document.getElementById("alert-template").content.firstElementChild.cloneNode(true);
    item.setAttribute("data-alert-id", String(Number(alert.id)));
    var badge = fill(item, "severity", severities[alert.severity] || alert.severity);
    if (badge && /^(low|medium|high|critical)$/.test(alert.severity)) {
      badge.classList.add(alert.severity);
    }
    fill(item, "time", clock(alert.created_at));
    customerLink(item, alert.customer_id, alert.customer_name);
    fill(item, "channel", channels[alert.channel] || alert.channel);
    var words = [];
    (alert.matches || []).forEach(function (m) {
      if (words.indexOf(m.phrase) < 0) {
        words.push(m.phrase);
      }
    });
    fill(item, "words", words.join("・"));
    var excerpt = item.querySelector('[data-field="excerpt"]');
    (alert.excerpt || []).forEach(function (segment) {
      var node = segment.mark ? document.createElement("mark") : document.createElement("span");
      node.textContent = segment.text;
      excerpt.appendChild(node);
    });
    var button = item.querySelector("button");
    button.setAttribute("hx-post", "/supervisor/alerts/" + String(Number(alert.id)) + "/ack");
    prepend("alert-list", "alerts-empty", item);
    if (window.htmx) {
      window.htmx.process(item);
    }
  }

  function markAcknowledged(event) {
    var item = document.querySelector('[data-alert-id="' + String(Number(event.id)) + '"]');
    if (!item || item.classList.contains("acked")) {
      return;
    }
    item.classList.add("acked");
    var place = item.querySelector(".board-ack");
    var badge = document.getElementById("acked-template").content.firstElementChild.cloneNode(true);
    badge.textContent = badge.textContent + " " + clock(event.acknowledged_at) + " " + (event.acknowledged_by_name || "");
    place.textContent = "";
    place.appendChild(badge);
  }

  function listen(kind, handler) {
    source.addEventListener(kind, function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handler(data);
    });
  }

  var source = new EventSource(board.getAttribute("data-stream"));
  var dropped = false;
  source.addEventListener("open", function () {
    // Events committed while the connection was down are not replayed: after a reconnection,
    // reload to show what the database holds.
    if (dropped) {
      source.close();
      window.location.reload();
      return;
    }
    setStatus("live");
    board.setAttribute("data-connected", "true");
  });
  source.addEventListener("error", function () {
    dropped = true;
    setStatus("reconnecting");
    board.removeAttribute("data-connected");
  });
  listen("contact", addContact);
  listen("alert", addAlert);
  listen("alert_acknowledged", markAcknowledged);
  // Too far behind: the server dropped this stream. Reload to show everything from the database.
  source.addEventListener("lagged", function () {
    source.close();
    window.location.reload();
  });
})();
