"""A socket.io client that behaves like the web app's (websocket transport, token in ``auth``)."""
from __future__ import annotations

import threading

import engineio
import socketio


class _InOrderEngineIO(engineio.Client):
    """Hands each message to socket.io in the reading thread: the stock client starts a thread per message,
    so two messages sent in order could be seen swapped, which a browser never does."""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return _InOrderEngineIO


class Browser:
    """A socket.io client as the web app uses it (websocket transport, token in ``auth``)."""

    def __init__(self, base: str, token: str | None) -> None:
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        self.client = _InOrderClient(reconnection=False)
        self.client.on("events", self._on_event)
        self.client.connect(base, socketio_path="/ws/socket.io", transports=["websocket"],
                            auth={"token": token} if token else None, wait_timeout=10)
        if token:
            # The server acknowledges a connection before its handler has put the socket in the user's room
            # (``always_connect``, as Open WebUI does); the app's ``user-join`` answers once it has.
            self.client.call("user-join", {"auth": {"token": token}}, timeout=10)

    def _on_event(self, data) -> None:
        with self.arrived:
            self.events.append(data)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.events) >= count, timeout=timeout)
            return list(self.events)

    def close(self) -> None:
        self.client.disconnect()

    def wait_until(self, predicate, timeout: float = 10.0) -> list[dict]:
        """Wait until ``predicate(events)`` holds (or the timeout passes); returns the events so far."""
        with self.arrived:
            self.arrived.wait_for(lambda: predicate(self.events), timeout=timeout)
            return list(self.events)
