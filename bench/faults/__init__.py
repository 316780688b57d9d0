"""Faults on purpose: processes killed mid-write, the index damaged, the API fed generated input."""
