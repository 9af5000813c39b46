// The time zone picker (macros.html, zone_select): a search box that narrows the list, the
// browser's own zone preselected where the page asks (data-browser-default), and otherwise
// offered in one click when it differs. Without this script the list works alone.
(function () {
  "use strict";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function words(text) {
    return text.toLowerCase().replace(/[_/]+/g, " ").trim();
  }

  function optionFor(select, zone) {
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].value === zone) return select.options[i];
    }
    return null;
  }

  function narrow(select, query) {
    var wanted = words(query);
    var first = null;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var shown = 0;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
        var hit = !wanted || words(option.value + " " + option.textContent).indexOf(wanted) >= 0;
        option.hidden = !hit;
        if (hit) {
          shown += 1;
          if (!first) first = option;
        }
      });
      group.hidden = shown === 0;
    });
    var current = select.options[select.selectedIndex];
    if (first && (!current || current.hidden)) select.value = first.value;
  }

  function setUp(picker) {
    var select = picker.querySelector("select");
    var search = picker.querySelector(".zone-search");
    var offer = picker.querySelector(".zone-offer");
    var zone = browserZone();
    var known = zone && optionFor(select, zone);

    if (picker.hasAttribute("data-browser-default") && known) {
      select.value = zone;
    } else if (known && select.value !== zone && offer) {
      var button = offer.querySelector("button");
      button.textContent = "Use your browser's zone, " + zone;
      button.addEventListener("click", function () {
        search.value = "";
        narrow(select, "");
        select.value = zone;
        offer.hidden = true;
        select.focus();
      });
      offer.hidden = false;
    }

    search.hidden = false;
    search.addEventListener("input", function () {
      narrow(select, search.value);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // choose, do not submit the form from the search box
        event.preventDefault();
        select.focus();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-zone-picker]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
