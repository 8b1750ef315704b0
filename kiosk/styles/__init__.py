"""Stylesheets (.tcss) and themes of the kiosk."""
