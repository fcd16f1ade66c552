#!/usr/bin/env bash
# Debian tools the integration tests run as real processes: Prometheus and promtool, VictoriaMetrics (the
# InfluxDB write protocol), Chromium (report screenshots) and docker-compose (`config` checks). Installs the
# missing ones with apt-get when run as root; otherwise names them and stops.
set -euo pipefail
declare -A PACKAGE_OF=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [victoria-metrics]=victoria-metrics
  [chromium]=chromium
  [docker-compose]=docker-compose
)
missing=()
for tool in "${!PACKAGE_OF[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${PACKAGE_OF[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && { echo "tools: all present"; exit 0; }
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "tools: missing ${packages[*]}; install them (Debian: apt-get install ${packages[*]})" >&2
  exit 1
fi
echo "tools: installing ${packages[*]} with apt-get"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >/dev/null ||
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >/dev/null; }
