"""`appctl`: the command line. One command group per noun, one command per verb.

Exit codes: 0 success; 1 a failed call or operation (the server's message on stderr); 2 usage error;
124 a wait that timed out.
"""

from .main import app, main

__all__ = ["app", "main"]
