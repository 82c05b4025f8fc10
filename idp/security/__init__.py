"""Pure security helpers: no Flask, no database session."""
