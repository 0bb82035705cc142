"""YAML rules → pyDatalog clauses, evaluation and findings."""
