// Segmentation page: pick a split point by clicking a word, or step between word
// boundaries with buttons; the number input stays the source of truth (and works
// without this script). Offsets count code points, like the server: Array.from.
(function () {
  "use strict";

  function wordStarts(chars) {
    var starts = [];
    for (var i = 1; i < chars.length; i++) {
      if (/\s/.test(chars[i - 1]) && !/\s/.test(chars[i])) starts.push(i);
    }
    return starts;
  }

  function snippet(chars, from, to) {
    var part = chars.slice(from, to).join("").trim();
    return part.length > 60 ? (from === 0 ? "…" + part.slice(-57) : part.slice(0, 57) + "…") : part;
  }

  function enhance(form) {
    var holder = document.getElementById(form.dataset.text);
    var input = form.querySelector("input[name=offset]");
    var preview = document.getElementById(form.dataset.preview);
    if (!holder || !input || !preview) return;
    var bdi = holder.querySelector("bdi") || holder;
    var chars = Array.from(bdi.textContent);
    var starts = wordStarts(chars);
    var spans = {};
    var bounds = [0].concat(starts, [chars.length]);
    bdi.textContent = "";
    for (var w = 0; w + 1 < bounds.length; w++) {
      var span = document.createElement("span");
      span.className = "seg-word";
      span.textContent = chars.slice(bounds[w], bounds[w + 1]).join("");
      if (w > 0) {
        span.dataset.at = String(bounds[w]);
        span.title = "Split before this word";
        spans[bounds[w]] = span;
      }
      bdi.appendChild(span);
    }
    holder.classList.add("pickable");

    function show() {
      var at = parseInt(input.value, 10);
      Object.keys(spans).forEach(function (k) { spans[k].classList.remove("seg-cut"); });
      if (!(at > 0 && at < chars.length)) {
        preview.textContent = "";
        return;
      }
      if (spans[at]) spans[at].classList.add("seg-cut");
      preview.textContent = "First part ends “" + snippet(chars, 0, at) +
        "”; the second starts “" + snippet(chars, at, chars.length) + "”.";
    }

    function setAt(at) {
      input.value = String(at);
      show();
    }

    holder.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest(".seg-word") : null;
      if (target && target.dataset.at) {
        setAt(parseInt(target.dataset.at, 10));
        input.focus();
      }
    });
    input.addEventListener("input", show);

    function step(direction) {
      var at = parseInt(input.value, 10) || 0;
      var next = direction > 0
        ? starts.find(function (s) { return s > at; })
        : starts.slice().reverse().find(function (s) { return s < at; });
      if (next !== undefined) setAt(next);
    }

    if (starts.length) {
      var back = document.createElement("button");
      back.type = "button";
      back.className = "button step";
      back.textContent = "◀";
      back.setAttribute("aria-label", "Move the split point to the previous word");
      back.addEventListener("click", function () { step(-1); });
      var forward = document.createElement("button");
      forward.type = "button";
      forward.className = "button step";
      forward.textContent = "▶";
      forward.setAttribute("aria-label", "Move the split point to the next word");
      forward.addEventListener("click", function () { step(1); });
      var anchor = form.querySelector(".of") || input;
      anchor.insertAdjacentElement("afterend", forward);
      anchor.insertAdjacentElement("afterend", back);
    }
    show();
  }

  document.querySelectorAll("form.split-form").forEach(enhance);
})();
