"""Benches of the test suite itself, run by hand and never by the suite: how long it takes, what it
covers and how much of a rule's change it notices, at any revision."""
