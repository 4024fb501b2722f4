"""The chat consumer of a typical Django Channels app (the tutorial's, with persistence)."""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from bench.plain.models import Message


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.close(code=4401)
            return
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.group = f"chat_{self.room}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        message = await self.save(data["client_id"], data["body"])
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.message",
                "seq": message.pk,
                "client_id": message.client_id,
                "body": message.body,
                "user": self.user.username,
                "created_at": message.created_at.isoformat(),
            },
        )
        await self.send(text_data=json.dumps({"type": "ack", "re": data.get("id")}))

    @database_sync_to_async
    def save(self, client_id, body):
        return Message.objects.create(
            room=str(self.room), user=self.user, client_id=client_id, body=body
        )

    async def chat_message(self, event):
        await self.send(
            text_data=json.dumps(
                {
                    "type": "message.created",
                    "conversation": self.room,
                    "seq": event["seq"],
                    "message": {
                        "client_id": event["client_id"],
                        "body": event["body"],
                        "sender": event["user"],
                        "created_at": event["created_at"],
                    },
                }
            )
        )
