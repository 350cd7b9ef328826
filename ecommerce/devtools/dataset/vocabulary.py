"""Words the generator draws from: places, streets, product nouns and features.

Two search terms are planted on purpose (the search benchmark asks for them): ``warranty`` in about 40%
of descriptions (a common term) and ``titanium`` in about 0.2% (a rare one). Neither appears as part of
another word, so ``LIKE '%term%'`` and a full-text match find exactly the same products.
"""

from __future__ import annotations

COMMON_TERM = "warranty"
RARE_TERM = "titanium"
COMMON_SHARE = 0.40
RARE_SHARE = 0.002

EXTRA_BRANDS = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark Goods", "Wayne Supply", "Hooli", "Vandelay", "Soylent",
    "Cyberdyne", "Tyrell", "Aperture", "Black Mesa", "Gringotts", "Oscorp", "Monarch", "Pied Piper", "Dunder",
    "Kramerica", "Bluth", "Sterling", "Prestige", "Massive Dynamic", "Nakatomi", "Weyland", "Zorg", "Virtucon",
    "Sirius", "Ollivander", "Krusty", "Duff", "Buy n Large", "Gekko", "Rekall", "Spacely",
]
EXTRA_WAREHOUSES = [
    ("Paris DC", "Paris", "FR", 48.86, 2.35), ("Chicago DC", "Chicago", "US", 41.88, -87.63),
    ("Singapore DC", "Singapore", "SG", 1.35, 103.82), ("Sao Paulo DC", "Sao Paulo", "BR", -23.55, -46.63),
    ("Sydney DC", "Sydney", "AU", -33.87, 151.21),
]
# (city, state, country, postal code pattern: # is a digit)
CITIES = [
    ("Springfield", "IL", "US", "627##"), ("Portland", "OR", "US", "972##"), ("Austin", "TX", "US", "787##"),
    ("Boston", "MA", "US", "021##"), ("Seattle", "WA", "US", "981##"), ("Denver", "CO", "US", "802##"),
    ("Berlin", None, "DE", "10###"), ("Munich", None, "DE", "80###"), ("Hamburg", None, "DE", "20###"),
    ("Paris", None, "FR", "750##"), ("Lyon", None, "FR", "690##"), ("Lagos", "LA", "NG", "1000##"),
    ("Toronto", "ON", "CA", "M5V ###"), ("London", None, "GB", "SW1 ###"), ("Madrid", None, "ES", "280##"),
    ("Milan", None, "IT", "201##"), ("Amsterdam", None, "NL", "10## AB"), ("Sydney", "NSW", "AU", "2###"),
    ("Sao Paulo", "SP", "BR", "01###-000"), ("Singapore", None, "SG", "0#####"), ("Tokyo", None, "JP", "100-####"),
]
STREETS = ["Main", "Oak", "Maple", "Cedar", "Elm", "Park", "Lake", "Hill", "Church", "Mill", "River", "King",
           "Queen", "Station", "Victoria", "Garden", "Bridge", "Market", "School", "Harbor"]
SUFFIXES = ["St", "Ave", "Rd", "Blvd", "Ln", "Way", "Strasse", "Rue"]
ADJECTIVES = ["compact", "rugged", "lightweight", "premium", "everyday", "classic", "modern", "versatile",
              "quiet", "durable", "sleek", "eco-friendly"]
