"""The benchmark: `make bench` (or `python -m bench --help`).

Parley against two references on the same machine in the same run: a bare ASGI websocket
broadcast app (the ceiling for Python here) and a plain Django Channels chat (what a
typical Django chat is). docs/performance.md explains the scenarios and keeps the last table.
"""
