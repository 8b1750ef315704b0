"""`python -m backend_stub`: the same as `kiosk serve-api`."""

from backend_stub.cli import serve_api

if __name__ == "__main__":
    serve_api(prog_name="python -m backend_stub")
