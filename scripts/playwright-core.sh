# Sourced by the browser tests' scripts, from the project root: installs the
# playwright-core that tests/browser/package-lock.json pins (npm ci) when
# tests/browser/node_modules lacks that version.

version_of() { node -p "try { require('./$1').$2 } catch { '' }"; }
want=$(version_of tests/browser/package-lock.json 'packages["node_modules/playwright-core"].version')
have=$(version_of tests/browser/node_modules/playwright-core/package.json version)
if [[ -z "$have" || "$have" != "$want" ]]; then
    echo "== installing playwright-core $want (npm ci)"
    (cd tests/browser && npm ci --no-audit --no-fund)
fi
