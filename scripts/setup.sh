#!/usr/bin/env bash
# Set up reportgen on a fresh Debian machine: system fonts and tools, then a
# virtual environment in .venv with the package installed (editable).
#   bash scripts/setup.sh         # what building briefs needs
#   bash scripts/setup.sh --dev   # plus test, lint and browser tools
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

apt_packages=(fonts-noto-cjk fonts-inter fonts-dejavu-core libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0)
[ "$dev" = 1 ] && apt_packages+=(poppler-utils chromium openssl systemd)  # openssl: SMTP TLS test certificates; systemd: systemd-analyze verify
# java and npm for the accessibility checkers, unless the machine has them another way
# (a Node.js that bundles npm conflicts with Debian's npm package)
[ "$dev" = 1 ] && ! command -v java >/dev/null && apt_packages+=(default-jre-headless)
[ "$dev" = 1 ] && ! command -v npm >/dev/null && apt_packages+=(npm)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# pip here may warn about local mirror folders that do not exist; keep its real errors.
pip_install() { .venv/bin/python -m pip install -q "$@" 2> >(grep -v '^WARNING: Location' >&2); }

python3 -m venv .venv
pip_install --upgrade pip
if [ "$dev" = 1 ]; then
  pip_install -e '.[dev]'
else
  pip_install -e .
fi
# The accessibility checkers tests/test_accessibility.py runs: axe-core (in Chromium) and the
# W3C validator vnu.jar (on Java), from npm into .venv/a11y (git-ignored with .venv).
[ "$dev" = 1 ] && npm install --prefix .venv/a11y --no-audit --no-fund --silent axe-core@4 vnu-jar@26 >/dev/null

# Bytecode for the package, as pip writes for an ordinary install: every reportgen process
# (the command, the workers' fork server) starts about 0.1 s sooner. An editable install
# leaves it to the first run, which PYTHONDONTWRITEBYTECODE (set on some machines) stops.
.venv/bin/python -m compileall -q reportgen >/dev/null
