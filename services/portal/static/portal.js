// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Warn before the session ends, in a live region the screen reader announces.
  var box = document.getElementById("session");
  if (box) {
    var ends = parseInt(box.getAttribute("data-expires-at"), 10) * 1000;
    var before = parseInt(box.getAttribute("data-warn-before"), 10) * 1000;
    var warning = box.querySelector(".warning");
    var warn = function () { warning.textContent = warning.getAttribute("data-warning-text"); };
    var wait = ends - before - Date.now();
    if (wait <= 0) { warn(); } else { setTimeout(warn, Math.min(wait, 2147483000)); }
  }
  // A refused form: move the focus to the list of what to correct.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // "Select all" on a desk's list: shown only where this script runs; ticks every box of its form.
  Array.prototype.forEach.call(document.querySelectorAll("[data-select-all]"), function (all) {
    all.parentNode.hidden = false;
    var boxes = function () {
      return all.form.querySelectorAll("input[type=checkbox][name='" + all.getAttribute("data-select-all") + "']");
    };
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes(), function (box) { box.checked = all.checked; });
    });
  });
  // The DDO chosen is remembered while another district's list is shown (the list comes back with it selected).
  document.addEventListener("change", function (event) {
    var wanted = document.getElementById("f-ddo_wanted");
    if (wanted && event.target && event.target.id === "f-ddo_code" && event.target.value) {
      wanted.value = event.target.value;
    }
  });
  // The documents step on a slow phone. A file is checked before it is sent (type, and size: a camera photo
  // over the limit is made smaller here, a PDF is not), the upload shows its progress, and "Continue" warns
  // about a file chosen but not sent. Without this, each document is a plain form the server checks.
  var docs = document.getElementById("documents");
  if (docs && window.FormData && window.XMLHttpRequest && window.Promise) {
    var max = parseInt(docs.getAttribute("data-max-bytes"), 10);
    var text = function (name) { return docs.getAttribute("data-" + name) || ""; };
    var say = function (form, message, isError) {
      var out = form.querySelector(".upload-status");
      out.textContent = message;
      out.className = "upload-status" + (isError ? " error" : "");
    };
    var shrink = function (file, side, quality) {
      return new Promise(function (resolve, reject) {
        var img = new Image();
        var url = URL.createObjectURL(file);
        img.onload = function () {
          var scale = Math.min(1, side / Math.max(img.naturalWidth, img.naturalHeight));
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(img.naturalWidth * scale);
          canvas.height = Math.round(img.naturalHeight * scale);
          canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
          URL.revokeObjectURL(url);
          canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error("no blob")); }, "image/jpeg", quality);
        };
        img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
        img.src = url;
      });
    };
    var prepare = function (form, file) {
      if (file.size <= max || !/^image\/(jpeg|png)$/.test(file.type)) { return Promise.resolve(file); }
      say(form, text("shrinking"), false);
      return shrink(file, 2400, 0.85).then(function (blob) {
        return blob.size <= max ? blob : shrink(file, 1600, 0.7);
      }).then(function (blob) {
        return { blob: blob, name: file.name.replace(/\.[^.]*$/, "") + ".jpg" };
      });
    };
    var send = function (form, blob, name) {
      var bar = form.querySelector(".upload-progress");
      var button = form.querySelector("button[type=submit]");
      var data = new FormData();
      data.append("document", blob, name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) { return; }
        bar.hidden = false;
        bar.value = Math.round((100 * event.loaded) / event.total);
        say(form, text("sending").replace("{done}", Math.round(event.loaded / 1024)).replace("{total}", Math.round(event.total / 1024)), false);
      };
      xhr.upload.onload = function () { say(form, text("sent"), false); };
      xhr.onload = function () {
        // the server answered with a redirect to the documents page (uploaded, or the reason it was refused):
        // go there, so the page, its notice and Back are the same as without JavaScript
        var at = form.closest("li").id;
        window.location.assign((xhr.responseURL || "/apply/documents") + "#" + at);
      };
      xhr.onerror = xhr.ontimeout = function () {
        bar.hidden = true;
        button.disabled = false;
        say(form, text("network-failed"), true);
      };
      button.disabled = true;
      xhr.send(data);
    };
    docs.addEventListener("submit", function (event) {
      var form = event.target;
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file) { return; }  // the server says a file must be chosen
      event.preventDefault();
      if (!/^(application\/pdf|image\/jpeg|image\/png)$/.test(file.type)) { say(form, text("wrong-type"), true); return; }
      prepare(form, file).then(function (ready) {
        var blob = ready.blob || ready;
        if (blob.size > max) { say(form, text("too-large"), true); return; }
        send(form, blob, ready.name || file.name);
      }, function () { say(form, text("too-large"), true); });
    });
    var go = document.getElementById("documents-continue");
    var warned = false;
    if (go) {
      go.addEventListener("click", function (event) {
        var chosen = Array.prototype.filter.call(docs.querySelectorAll("input[type=file]"), function (input) {
          return input.files && input.files.length > 0;
        });
        if (!chosen.length || warned) { return; }
        event.preventDefault();
        warned = true;
        var box = document.getElementById("unsent");
        var names = chosen.map(function (input) { return input.getAttribute("data-label"); }).join(", ");
        box.textContent = text("unsent").replace("{names}", names);
        box.hidden = false;
        box.focus();
      });
    }
  }
  document.addEventListener("click", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-print")) { window.print(); }
  });
})();
