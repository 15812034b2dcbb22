"""System-wide checks over every service of the shop, run by `make lint`:

- `shop_checks.contracts`: every event a service consumes has a producer whose committed JSON
  Schema gives every field the consumer reads, or is listed as awaited from a service not built yet;
- `shop_checks.imports`: no service imports another (import-linter, services discovered).
"""

from shop_checks.contracts import Problem, check_contracts, load_contracts
from shop_checks.imports import import_contracts, lint_imports

__all__ = ["Problem", "check_contracts", "import_contracts", "lint_imports", "load_contracts"]
