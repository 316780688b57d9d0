"""Geography: geocoding (geopy interface, offline gazetteer first) and distances."""
