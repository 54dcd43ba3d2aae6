from django.db.models.sql.compiler import (  # noqa: F401 (the backend's compilers, by name)
    SQLAggregateCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)

from appcontrol.core.sql_compiler import SQLCompiler  # noqa: F401
