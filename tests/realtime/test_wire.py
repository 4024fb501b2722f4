"""The layer messages between server processes survive the layer's own encoding
(channels-redis packs each one with msgpack) and come back as what was sent."""

from __future__ import annotations

import dataclasses

from channels_redis.serializers import registry

from parley.events import protocol as p
from parley.events.outgoing import JOINED, outgoing
from parley.realtime import wire

msgpack = registry.get_serializer("msgpack")


def through_the_layer(message):
    return msgpack.deserialize(msgpack.serialize(message))


def test_an_event_has_its_fields_in_the_order_the_wire_writes_them():
    assert wire.EVENT_FIELDS == tuple(f.name for f in dataclasses.fields(wire.Outgoing))


def test_events_come_back_from_the_layer_as_they_were_published():
    durable = outgoing(
        "u.7",
        p.ConversationLeft(user_seq=3, conversation=9),
        conversation=9,
        seq=4,
        user_seq=3,
        control=JOINED,
    )
    ephemeral = outgoing("c.9", p.OnlineCount(conversation=9, count=2))

    one = through_the_layer(wire.event_message(durable, "hub.a"))
    batch = through_the_layer(wire.batch_message([durable, ephemeral], "hub.a"))

    assert (one["type"], one["origin"], wire.events_of(one)) == (wire.EVENT, "hub.a", [durable])
    assert (batch["type"], wire.events_of(batch)) == (wire.BATCH, [durable, ephemeral])
