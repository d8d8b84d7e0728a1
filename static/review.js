// Adjudication page: keyboard shortcuts over plain HTML forms and links, which
// work without this script. 1-9 choose an annotator's answer (and copy it into
// the new-answer fields), Enter or a accepts it, r writes the rationale, j/n and
// k move through the filtered queue, ? shows the help.
(function () {
  "use strict";

  var form = document.getElementById("decision");
  if (!form) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card[data-n]"));
  var status = document.getElementById("chosen");
  var help = document.getElementById("help");
  var rationale = document.getElementById("rationale");
  var labelField = document.getElementById("label");
  var sourcesField = document.getElementById("sources");
  var chosen = null;

  function say(text) {
    if (!status) return;
    // Clearing first makes a screen reader announce a repeated message again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function choose(n) {
    var card = cards[n - 1];
    if (!card) {
      say("There is no answer " + n + ".");
      return;
    }
    cards.forEach(function (c) { c.classList.remove("chosen"); });
    card.classList.add("chosen");
    chosen = card;
    if (labelField) labelField.value = card.dataset.label || "";
    if (sourcesField) sourcesField.value = card.dataset.sources || "";
    var button = card.querySelector("button.accept");
    if (button) button.focus();
    var who = card.querySelector("h3 bdi");
    var sources = (card.dataset.sources || "").split("\n").filter(Boolean);
    say("Answer " + n + (who ? " by " + who.textContent : "") + ": " + card.dataset.label +
      (sources.length ? ", sources " + sources.join(" then ") : ", no source") +
      ". Press Enter to accept it.");
  }

  function accept() {
    if (!chosen) {
      say("Choose an answer with its number first.");
      return;
    }
    var button = chosen.querySelector("button.accept");
    if (!button) return;
    if (form.requestSubmit) form.requestSubmit(button);
    else button.click();
  }

  function go(id) {
    var link = document.getElementById(id);
    if (link) window.location.assign(link.href);
  }

  function toggleHelp() {
    if (!help || !help.showModal) return;
    if (help.open) help.close();
    else help.showModal();
  }

  function editable(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !/^(checkbox|radio|button|submit)$/.test(target.type));
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey) return;
    var target = event.target;
    if (help && help.open) return; // the dialog handles Esc itself
    if (editable(target)) {
      if (event.key === "Escape") {
        // Leave the field so the shortcuts work again.
        target.blur();
        if (chosen) chosen.querySelector("button.accept").focus();
        event.preventDefault();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        accept();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (/^[1-9]$/.test(key)) {
      event.preventDefault();
      choose(parseInt(key, 10));
    } else if (key === "Enter") {
      // Enter on a link or button does what it says; elsewhere it accepts.
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (tag === "a" || tag === "button") {
        if (!(chosen && target === chosen.querySelector("button.accept"))) return;
      }
      event.preventDefault();
      accept();
    } else if (key === "a") {
      event.preventDefault();
      accept();
    } else if (key === "r") {
      if (rationale) {
        event.preventDefault();
        rationale.focus();
      }
    } else if (key === "j" || key === "n") {
      event.preventDefault();
      go("next");
    } else if (key === "k") {
      event.preventDefault();
      go("prev");
    } else if (key === "?") {
      event.preventDefault();
      toggleHelp();
    }
  });

  var helpButton = document.getElementById("help-btn");
  if (helpButton) helpButton.addEventListener("click", toggleHelp);
  var close = document.getElementById("help-close");
  if (close) close.addEventListener("click", function () { help.close(); });
  if (help) {
    help.addEventListener("keydown", function (event) {
      if (event.key === "?") {
        event.preventDefault();
        help.close();
      }
    });
  }
  // A click on a card (outside its button) chooses it, like its number key.
  cards.forEach(function (card, i) {
    card.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("button, a")) return;
      choose(i + 1);
    });
  });
  // After a refused decision, start at the first field that needs fixing.
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
  // Submitting twice (a double Enter) would decide twice: the second is ignored.
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });
}());
