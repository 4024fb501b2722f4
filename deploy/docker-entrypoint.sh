#!/bin/sh
# The Parley image's entrypoint (docs/deployment.md, "Docker"):
#   serve [uvicorn options]   the production server on port 8000 (the default command)
#   migrate [options]         bring the database up to date; once per release, before the
#                             servers start, never from each server (two would race)
#   anything else             a manage.py command: createsuperuser, parley_demo, check ...
set -eu

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
  serve)
    # The flags of docs/deployment.md's systemd unit. Only nginx may set the client's
    # address and scheme: FORWARDED_ALLOW_IPS is its address (compose.yaml fixes it).
    exec uvicorn parley.asgi:application \
      --host 0.0.0.0 --port 8000 \
      --loop uvloop --http httptools --ws websockets-sansio --ws-max-size 65536 \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --no-access-log --timeout-graceful-shutdown 20 \
      "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  *)
    exec python manage.py "$command" "$@"
    ;;
esac
