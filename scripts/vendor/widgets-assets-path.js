// Loaded after require.js and just before @jupyter-widgets/html-manager's embed-amd.js.
// Copied to _static/vendor/ by scripts/vendor/install.sh.
(function () {
  // 1. Where the html-manager's font files are. Each module that embed-amd.js defines
  //    ("@jupyter-widgets/base", "/controls", "/html-manager", ".../dist/libembed-amd")
  //    computes the URL of its CSS fonts from its own AMD URI, which require.js would
  //    resolve to "<page dir>/@jupyter-widgets/..." (a 404 once the browser needs a
  //    glyph, e.g. a slider's FontAwesome icon). Map the whole "@jupyter-widgets" prefix
  //    so that every such URI lies in the book's own copy, _static/vendor/html-manager/
  //    (the modules are defined inline, so nothing is fetched from these paths).
  var src = document.currentScript && document.currentScript.src;
  if (src) {
    var dir = src.replace(/widgets-assets-path\.js(\?.*)?$/, "html-manager");
    window.__jupyter_widgets_assets_path__ = dir + "/";
    if (window.require && window.require.config) {
      window.require.config({
        paths: {
          "@jupyter-widgets": dir,
          "@jupyter-widgets/html-manager/dist": dir,
        },
      });
    }
  }

  // 2. The widgets typeset labels with the MathJax 2 API (MathJax.Hub.Queue), but the
  //    book loads MathJax 3, which has no Hub: "Cannot read properties of undefined
  //    (reading 'Queue')" on every page with a slider. Map Hub.Queue(["Typeset", hub, el])
  //    to MathJax 3's typesetPromise([el]). Installed once MathJax 3 has replaced its
  //    configuration object (deferred scripts run before DOMContentLoaded, and this
  //    listener is registered before the html-manager's own).
  function installHubShim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || typeof mj.typesetPromise !== "function") {
      return;
    }
    mj.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset") {
            var nodes = job[2] ? [job[2]] : undefined;
            var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
            ready.then(function (n) { return function () { return mj.typesetPromise(n); }; }(nodes))
              .catch(function (err) { console.warn("MathJax typeset of a widget label failed:", err); });
          }
        }
      }
    };
  }
  installHubShim();
  document.addEventListener("DOMContentLoaded", installHubShim);
})();
