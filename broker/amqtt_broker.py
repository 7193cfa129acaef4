"""amqtt's Broker with retained messages delivered only where the ACL allows.

amqtt 0.12 sends retained messages at every connect for every topic filter that *any* client
has subscribed to, to the connecting client, and checks none of them against the topic
plugins: once a screen subscribed to `keten/v1/#`, every organisation that connected received
every other organisation's retained state. Here a retained message goes only to a session
that holds the subscription, and only when the plugins let that session receive the topic.

And a client connecting with the id of a client still connected takes over, as MQTT 3.1.1
requires (§3.1.4): the old connection's Last Will goes out at once and the connection ends.

And what is held for a persistent session while its client is away goes out as a normal
message, not flagged retained (§3.3.1.3; amqtt flags it, so a recorder would file a reading
as a retained copy), and at most MAX_HELD of it, oldest first, as Mosquitto's
`max_queued_messages` bounds it: a client that never returns must not exhaust the memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action

from broker.limits import MAX_HELD

log = logging.getLogger("ketenwacht.sessions")


class CheckedBroker(Broker):  # type: ignore[misc]
    async def _delete_session(self, client_id: str) -> None:
        # amqtt 0.12 calls this for a clean-session CONNECT and only forgets the old session:
        # the old connection lives on, and its Will goes out whenever that finally ends, which
        # may be after the new connection's birth: a live agent shown "lost". Mosquitto sends
        # the Will at the take-over, before the new CONNACK; so do we.
        session, handler = self._sessions.get(client_id, (None, None))
        if session is not None and handler is not None and session.transitions.is_connected():
            if session.will_flag:
                session.will_flag = False  # sent here, not again when the connection ends
                await self._broadcast_message(
                    session, session.will_topic, session.will_message, session.will_qos
                )
                if session.will_retain:
                    await self.retain_message(
                        session, session.will_topic, session.will_message, session.will_qos
                    )
            writer = getattr(handler, "writer", None)
            if writer is not None:
                with contextlib.suppress(OSError):
                    await writer.close()
        await super()._delete_session(client_id)

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

    async def _retain_broadcast_message(
        self, broadcast: dict[str, Any], qos: int, target_session: Any
    ) -> None:
        if target_session.retained_messages.qsize() >= MAX_HELD:
            if not getattr(target_session, "ketenwacht_dropping", False):
                target_session.ketenwacht_dropping = True
                log.warning("%s has been away for %d messages; dropping what comes next "
                            "until it returns", target_session.client_id, MAX_HELD)
            return
        await super()._retain_broadcast_message(broadcast, qos, target_session)

    async def _publish_session_retained_messages(self, session: Any) -> None:
        session.ketenwacht_dropping = False
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = []
        while not session.retained_messages.empty():
            held = session.retained_messages.get_nowait()
            sends.append(asyncio.ensure_future(
                handler.mqtt_publish(held.topic, held.data, held.qos, retain=False)
            ))
        if sends:
            await asyncio.wait(sends)
