"""Several nodes on one database: how soon a change made on one is found on another."""
