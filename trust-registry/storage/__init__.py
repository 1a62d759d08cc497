"""The registry's storage: SQLAlchemy Core over SQLite (default) or PostgreSQL, versioned migrations.

Same conventions as the issuer's storage (one code path chosen by URL; numbered forward-only
migrations applied at start-up in one transaction; writers serialised), written separately because
the registry must not depend on the issuer package.
"""

from .engine import open_engine
from .store import RegistryStore

__all__ = ["RegistryStore", "open_engine"]
