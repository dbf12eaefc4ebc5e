// Progressive enhancement only: every feature here also works as a plain form or link.
(function () {
  "use strict";

  function enhanceLikeForms(root) {
    root.querySelectorAll("form.like-form").forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        button.disabled = true;
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
            var fresh = holder.querySelector("form.like-form");
            form.replaceWith(fresh);
            enhanceLikeForms(fresh.parentNode);
            fresh.querySelector("button").focus();
          })
          .catch(function () {
            form.submit(); // e.g. signed out: the server redirects to the login page
          });
      });
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

  document.addEventListener("DOMContentLoaded", function () {
    enhanceLikeForms(document);
    document.querySelectorAll("[data-feed]").forEach(enhancePager);
  });
})();
