"""How a delivery becomes an HTTP attempt, and what happens after it."""
