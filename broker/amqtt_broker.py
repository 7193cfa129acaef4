"""amqtt's Broker with retained messages delivered only where the ACL allows.

amqtt 0.12 sends retained messages at every connect for every topic filter that *any* client
has subscribed to, to the connecting client, and checks none of them against the topic
plugins: once a screen subscribed to `keten/v1/#`, every organisation that connected received
every other organisation's retained state. Here a retained message goes only to a session
that holds the subscription, and only when the plugins let that session receive the topic.
"""

from __future__ import annotations

import asyncio
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action


class CheckedBroker(Broker):  # type: ignore[misc]
    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        topic_filter, qos = subscription
        holders = self._subscriptions.get(topic_filter, ())
        if not any(holder.client_id == session.client_id for holder, _ in holders):
            return
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = []
        for topic, retained in list(self._retained_messages.items()):
            if not self._matches(topic, topic_filter):
                continue
            if not await self._topic_filtering(session, topic, Action.RECEIVE):
                continue
            sends.append(asyncio.ensure_future(handler.mqtt_publish(
                retained.topic, retained.data, min(qos, retained.qos or qos), retain=True
            )))
        if sends:
            await asyncio.wait(sends)
