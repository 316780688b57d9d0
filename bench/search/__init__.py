"""The search engine under strain: speed against references, hostile input, freshness, bulk growth."""
