"""PostgreSQL only: a thread that LISTENs for other replicas' news and puts it on the local bus.

`kimi_swarm_events` carries "<run_id> <last seq>" after each committed batch: when this process
follows that run, the listener reads the events it has not yet published (O(new) rows, once per
replica however many followers) and publishes them. `kimi_swarm_control` carries
"cancel <run_id>": the replica driving that run hears it on `cancel:<run_id>`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from swarm.bus import cancel_topic, events_topic
from swarm.sqldb import CONTROL_CHANNEL, EVENTS_CHANNEL

if TYPE_CHECKING:
    from swarm.sqlstore import SqlStore

log = logging.getLogger("kimi_swarm.store")


class Listener:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="swarm-store-listen", daemon=True)
        self._thread.start()
        # A follower that subscribes right after start must not miss the first NOTIFY.
        self._ready.wait(timeout=10)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _main(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                log.exception("run store listener lost its connection; reconnecting")
                time.sleep(1.0)

    def _listen(self) -> None:
        db = self.store.db
        conn = db.connect()
        try:
            conn.execute(f"LISTEN {EVENTS_CHANNEL}")
            conn.execute(f"LISTEN {CONTROL_CHANNEL}")
            self._ready.set()
            while not self._stop.is_set():
                for note in conn.notifies(timeout=0.25):
                    self._handle(note.channel, note.payload)
        finally:
            db.close(conn)

    def _handle(self, channel: str, payload: str) -> None:
        head, _, tail = payload.partition(" ")
        bus = self.store.bus
        if channel == CONTROL_CHANNEL and head == "cancel":
            bus.publish(cancel_topic(tail), None)
            return
        if channel != EVENTS_CHANNEL:
            return
        run_id, seq = head, int(tail)
        topic = events_topic(run_id)
        after = bus.published(topic)
        if bus.has_listeners(topic) and seq > after:
            bus.publish_events(run_id, self.store.events_now(run_id, after))
