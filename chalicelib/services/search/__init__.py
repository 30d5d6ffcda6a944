"""Full-text and structured message search: text folding and query parsing (text.py),
the index kept from the messages stream (indexer.py), query planning (query.py) and
rebuilding an account's index (backfill.py)."""
