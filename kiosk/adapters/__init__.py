"""The two Backends the UI runs on: the engine in-process (embedded) and the HTTP API's client
(remote). Both serve the calls of kiosk.backend's operation table."""
