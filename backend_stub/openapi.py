"""Write the committed OpenAPI document from the app's code.

    python -m backend_stub.openapi            # rewrite backend_stub/openapi.json
    python -m backend_stub.openapi --check    # exit 1 when the committed copy is stale
"""

from __future__ import annotations

import sys

from backend_stub.app import OPENAPI_FILE, render_openapi


def main(argv: list[str]) -> int:
    document = render_openapi()
    if "--check" in argv:
        current = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
        if current != document:
            print(f"{OPENAPI_FILE} is stale: run `python -m backend_stub.openapi`",
                  file=sys.stderr)
            return 1
        return 0
    OPENAPI_FILE.write_text(document, encoding="utf-8")
    print(f"wrote {OPENAPI_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
