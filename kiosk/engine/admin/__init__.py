"""The operator's core behind `kiosk admin` and the API's /v1/admin: users, groups, blocks,
imports, exports, the demo database.

Headless and free of click and FastAPI, so the CLI and the HTTP API are thin layers over the
same operations. One module per concern:

- errors: AdminError (NotFound, Invalid), one line an operator can act on per problem;
- cleaning: checking a new user's fields and a group name;
- results: UserInfo, GroupInfo, ImportResult and the self-service statuses;
- snapshot: the directory in a few queries, nested groups resolved in memory;
- operations: the Admin class (users, flags, blocks, groups);
- csv_import: reading an import file; writers: safe CSV and streamed JSON;
- policy_check: the secret files a policy names; demo: `kiosk admin demo reset`.
"""

from kiosk.engine.admin.cleaning import (
    GROUP_SEPARATOR,
    NewUser,
    clean_email,
    clean_group_name,
    clean_phone,
    clean_user,
    clean_username,
    parse_flag,
)
from kiosk.engine.admin.csv_import import IMPORT_COLUMNS, MAX_PROBLEMS, parse_import
from kiosk.engine.admin.demo import DEMO_POLICY_FILE, DEMO_POLICY_MARK, demo_reset
from kiosk.engine.admin.errors import AdminError, Invalid, NotFound, plural
from kiosk.engine.admin.operations import Admin
from kiosk.engine.admin.results import (
    DISABLED,
    NOT_REGISTERED,
    OUT_OF_SCOPE,
    READY,
    GroupInfo,
    ImportResult,
    UserInfo,
)
from kiosk.engine.admin.writers import FORMULA_PREFIXES, csv_safe, write_csv, write_json

__all__ = [
    "DEMO_POLICY_FILE", "DEMO_POLICY_MARK", "DISABLED", "FORMULA_PREFIXES", "GROUP_SEPARATOR",
    "IMPORT_COLUMNS", "MAX_PROBLEMS", "NOT_REGISTERED", "OUT_OF_SCOPE", "READY", "Admin",
    "AdminError", "GroupInfo", "ImportResult", "Invalid", "NewUser", "NotFound", "UserInfo",
    "clean_email", "clean_group_name", "clean_phone", "clean_user", "clean_username",
    "csv_safe", "demo_reset", "parse_flag", "parse_import", "plural", "write_csv", "write_json",
]
