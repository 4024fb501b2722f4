"""What happened, owned by the domain: the wire models, the groups events go to, and the
one way a service announces them (`sink.publish_on_commit`).

    protocol.py   every frame of the websocket protocol, client commands and server events
    outgoing.py   `Outgoing`: one encoded event for one group; the group names
    sink.py       `publish_on_commit`, `capture`, and the sink the gateway installs

Nothing here imports `parley.realtime`: the domain says "after commit, these events
happened"; how they travel (this process's sockets, Redis, a test's list) is the
gateway's business (docs/architecture.md, "Events").
"""
