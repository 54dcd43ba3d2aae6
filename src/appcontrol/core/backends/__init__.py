"""Django's PostgreSQL and SQLite backends, with SELECT statements written once per shape
(`appcontrol.core.sql_compiler`); settings.py uses them for DATABASE_URL's engine."""
