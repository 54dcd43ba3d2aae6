from django.db.backends.postgresql.compiler import (  # noqa: F401 (the backend's compilers, by name)
    SQLAggregateCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)

from appcontrol.core.sql_compiler import SQLCompiler  # noqa: F401
