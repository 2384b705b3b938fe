#!/usr/bin/env bash
# Makes sure the Debian packages that the end-to-end tests drive are installed: third-party peers
# (python3-autobahn with its msgpack/CBOR serializers, python3-nacl for cryptosign, python3-argon2 for
# WAMP-SCRAM's argon2id13, paho-mqtt, the Mosquitto clients and broker, redis-server for the Redis store,
# chromium for the admin console's browser tests, driven by playwright-core).
# Installs the missing ones when running as root (CI, a fresh machine); otherwise names them and fails.
set -euo pipefail

PACKAGES=(python3-autobahn python3-msgpack python3-cbor2 python3-nacl python3-argon2 python3-paho-mqtt mosquitto mosquitto-clients redis-server chromium)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "The end-to-end tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing test packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# A packaged broker may start as a service; the tests start their own brokers on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop mosquitto >/dev/null 2>&1 || true; fi
pkill -x mosquitto >/dev/null 2>&1 || true
