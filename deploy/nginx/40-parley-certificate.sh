#!/bin/sh
# Run by the nginx image before nginx starts (/docker-entrypoint.d/). With DEBUG off
# Parley accepts a browser's websocket only from an https page, so even on localhost
# nginx serves https: with your certificate when one is mounted at /etc/nginx/certs
# (fullchain.pem, privkey.pem), else with a self-signed one for localhost made here once.
set -eu
dir=/etc/nginx/certs
if [ ! -s "$dir/fullchain.pem" ] || [ ! -s "$dir/privkey.pem" ]; then
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
  echo "$0: made a self-signed certificate for localhost in $dir"
fi
