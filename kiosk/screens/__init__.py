"""The kiosk's screens, one module per screen or family; `router` maps flow steps to them."""
