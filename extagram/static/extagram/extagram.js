// Progressive enhancement only: every feature here also works as a plain form or link.
(function () {
  "use strict";

  // A toggle form (like, follow) sent in the background: the server answers JSON with the
  // form's fresh HTML (`html`), which replaces it; `onData` updates anything else on the
  // page. Any other answer (e.g. signed out: a redirect to the login page) submits the
  // plain form instead, which works without this script.
  function enhanceToggleForms(root, selector, onData) {
    root.querySelectorAll(selector).forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        form.querySelector("button").disabled = true;
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            var type = response.headers.get("Content-Type") || "";
            if (!response.ok || type.indexOf("application/json") === -1) throw new Error("fallback");
            return response.json();
          })
          .then(function (data) {
            var holder = document.createElement("div");
            holder.innerHTML = data.html;
            var fresh = holder.querySelector(selector);
            if (onData) onData(data);
            form.replaceWith(fresh);
            enhanceToggleForms(fresh.parentNode, selector, onData);
            fresh.querySelector("button").focus();
          })
          .catch(function () {
            form.submit();
          });
      });
    });
  }

  function enhanceLikeForms(root) {
    enhanceToggleForms(root, "form.like-form");
  }

  // Follow / unfollow without leaving the page, with the follower count kept in step.
  function enhanceFollowForms(root) {
    enhanceToggleForms(root, "form.follow-form", function (data) {
      var count = document.querySelector("[data-follower-count]");
      if (count && data.count_html) {
        var holder = document.createElement("div");
        holder.innerHTML = data.count_html;
        count.replaceWith(holder.querySelector("[data-follower-count]"));
      }
    });
  }

  function enhancePager(feed) {
    var pager = feed.querySelector("[data-pager]");
    if (!pager || !("IntersectionObserver" in window)) return;
    var link = pager.querySelector("a[rel=next]");
    var loading = false;
    var observer = new IntersectionObserver(function (entries) {
      if (!entries[0].isIntersecting || loading) return;
      loading = true;
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("fragment", "1");
      fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          observer.disconnect();
          var holder = document.createElement("div");
          holder.innerHTML = html;
          pager.remove();
          while (holder.firstChild) feed.appendChild(holder.firstChild);
          enhanceLikeForms(feed);
          enhancePager(feed);
        })
        .catch(function () {
          loading = false; // the link is still there to click
        });
    }, { rootMargin: "600px" });
    observer.observe(pager);
  }

  // The upload form: one press sends it once, with progress; a refusal shows its
  // messages in place, so the chosen photo stays selected. Without JavaScript it is a
  // plain form (the server turns a repeated submission into the same post).
  function enhanceUploadForm(form) {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector(".upload-status");
    var bar = status.querySelector("progress");
    var label = status.querySelector("span");
    var busy = false;

    function show(text, percent) {
      status.hidden = false;
      label.textContent = text;
      if (percent === null) bar.removeAttribute("value");
      else bar.value = percent;
    }

    function ready() {
      busy = false;
      button.disabled = false;
    }

    function clearErrors() {
      form.querySelectorAll(".form-errors, .field-errors").forEach(function (node) { node.remove(); });
      form.querySelectorAll(".field.has-error").forEach(function (node) {
        node.classList.remove("has-error");
      });
    }

    // Sent, but no answer from the site (a network error, a 5xx): worth another press.
    function failed(detail) {
      ready();
      clearErrors();
      show(form.dataset.failed + (detail ? " (" + detail + ")" : ""), 0);
      bar.hidden = true;
    }

    // A refusal on a page of its own (the proxy's or the site's 413, a 429): its own
    // words, which say what to change, shown as the form's error.
    function refused(page, status) {
      var words = page.querySelector("main p") || page.querySelector("h1");
      var fresh = document.createElement("div");
      var errors = fresh.appendChild(document.createElement("div"));
      errors.className = "form-errors";
      errors.setAttribute("role", "alert");
      errors.appendChild(document.createElement("p")).textContent = words
        ? words.textContent.trim()
        : String(status);
      ready();
      showErrors(fresh);
    }

    function showErrors(fresh) {
      clearErrors();
      var firstField = form.querySelector(".field");
      fresh.querySelectorAll(".form-errors").forEach(function (node) {
        form.insertBefore(document.importNode(node, true), firstField);
      });
      var focus = null;
      fresh.querySelectorAll(".field.has-error").forEach(function (freshField) {
        var input = freshField.querySelector("[name]");
        var target = input && form.querySelector("[name='" + input.name + "']");
        var field = target && target.closest(".field");
        if (!field) return;
        field.classList.add("has-error");
        freshField.querySelectorAll(".field-errors").forEach(function (errors) {
          field.appendChild(document.importNode(errors, true));
        });
        // the fresh field names its errors (and help) by id: so does the one kept
        if (input.hasAttribute("aria-describedby")) {
          target.setAttribute("aria-describedby", input.getAttribute("aria-describedby"));
        }
        focus = focus || target;
      });
      status.hidden = true;
      if (focus) focus.focus();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      button.disabled = true;
      bar.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          show(form.dataset.sending, Math.round((100 * progress.loaded) / progress.total));
        }
      });
      xhr.upload.addEventListener("load", function () {
        show(form.dataset.processing, null);
      });
      xhr.addEventListener("load", function () {
        var landed = xhr.responseURL ? new URL(xhr.responseURL) : null;
        if (xhr.status < 300 && landed && landed.pathname !== new URL(form.action).pathname) {
          window.location.assign(landed.href); // the new post (or the login page)
          return;
        }
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var fresh = page.querySelector("form[data-upload-form]");
        if (fresh) {
          ready();
          showErrors(fresh);
        } else if (xhr.status >= 400 && xhr.status < 500) {
          refused(page, xhr.status);
        } else {
          var heading = page.querySelector("h1");
          failed(heading ? heading.textContent.trim() : String(xhr.status));
        }
      });
      xhr.addEventListener("error", function () { failed(""); });
      xhr.addEventListener("abort", function () { failed(""); });
      xhr.send(new FormData(form));
      show(form.dataset.sending, 0);
    });

    // Back to this page from the browser's history: ready for another press.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        ready();
        status.hidden = true;
      }
    });
  }

  // The header's unread count comes with each page; when the tab comes back into view
  // (at most once a minute) one small request refreshes it. No polling.
  function refreshUnreadCount(link) {
    var last = Date.now();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState !== "visible" || Date.now() - last < 60000) return;
      last = Date.now();
      fetch(link.dataset.unreadUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("no count");
          return response.json();
        })
        .then(function (data) {
          var badge = link.querySelector(".badge");
          if (badge) badge.remove();
          link.insertAdjacentHTML("beforeend", data.html);
        })
        .catch(function () {}); // the count on the page stays; the next page brings a fresh one
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("a[data-unread-url]").forEach(refreshUnreadCount);
    enhanceLikeForms(document);
    enhanceFollowForms(document);
    document.querySelectorAll("[data-feed]").forEach(enhancePager);
    document.querySelectorAll("form[data-upload-form]").forEach(enhanceUploadForm);
  });
})();
