"""Storage: the only code that knows SQL. Handlers call the functions here (or the feature
repositories built on them) so a PostgreSQL backend can later sit behind the same calls."""
