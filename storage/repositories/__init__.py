"""Repositories: small, keyword-only interfaces over the tables; the only code that writes SQL."""
