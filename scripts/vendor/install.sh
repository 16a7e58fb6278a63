#!/usr/bin/env bash
# Install the book's browser assets from the npm registry (versions pinned by
# package-lock.json) and copy the files the pages load into a static folder (see dest),
# so the built HTML works with no network. Called by `make vendor`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# Not the top-level _static/: Jupyter Book 1 adds every *.js/*.css found (recursively)
# under a top-level _static/ to EVERY page, which would load all MathJax components.
# This folder is gitignored (node_modules/) and listed in _config.yml html_static_path,
# so its files end up in _build/html/_static/vendor/.
dest="$here/node_modules/_book_static/vendor"

if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: installing Debian's nodejs + npm" >&2
    apt-get update && apt-get install -y nodejs npm
fi

(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

nm="$here/node_modules"
rm -rf "$dest"
mkdir -p "$dest/mathjax" "$dest/html-manager"
# MathJax 3: the whole es5 tree, because its component loader fetches fonts and
# extensions at run time relative to the script's own location.
cp -R "$nm/mathjax/es5/." "$dest/mathjax/"
cp "$nm/requirejs/require.js" "$dest/require.js"
cp "$here/widgets-assets-path.js" "$dest/widgets-assets-path.js"
# Widgets HTML manager (AMD build for require.js) + the font files its CSS references.
cp "$nm/@jupyter-widgets/html-manager/dist/embed-amd.js" "$dest/html-manager/"
find "$nm/@jupyter-widgets/html-manager/dist" -maxdepth 1 -type f \
    \( -name '*.woff2' -o -name '*.woff' -o -name '*.ttf' -o -name '*.eot' -o -name '*.svg' \) \
    -exec cp {} "$dest/html-manager/" \;
touch "$dest/.installed"
echo "vendor assets installed in $dest ($(du -sh "$dest" | cut -f1))"
