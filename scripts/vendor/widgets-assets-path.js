// Loaded after require.js and just before @jupyter-widgets/html-manager's embed-amd.js.
// The html-manager computes the URL of its font files from the AMD module's URI, which
// require.js would resolve to "<page dir>/@jupyter-widgets/html-manager/dist/" (a 404):
// point that module path, and the explicit assets path, at the book's own copy in
// _static/vendor/html-manager/. Copied there by scripts/vendor/install.sh.
(function () {
  var src = document.currentScript && document.currentScript.src;
  if (!src) {
    return;
  }
  var dir = src.replace(/widgets-assets-path\.js(\?.*)?$/, "html-manager");
  window.__jupyter_widgets_assets_path__ = dir + "/";
  if (window.require && window.require.config) {
    window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": dir } });
  }
})();
